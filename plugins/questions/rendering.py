"""Question text as safe HTML: Markdown (CommonMark) rendered, then sanitised with Ammonia.

Bodies are written by examiners in Markdown, and bodies imported from Moodle carry HTML. Both
reach a candidate's browser, so the result goes through an allow-list sanitiser: no script,
no event handlers, no style, no iframes, links limited to http(s) and mailto. The page may then
insert it as HTML.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "code",
    "pre",
    "kbd",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "span",
}
ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}, "td": {"colspan", "rowspan"}}


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def body_html(text: str) -> str:
    """Sanitised HTML for a question body written in Markdown (or HTML)."""
    rendered = _markdown().render(text)
    return nh3.clean(
        rendered,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


INLINE_TAGS = {"strong", "em", "b", "i", "u", "s", "sub", "sup", "code", "kbd", "span", "br"}


def inline_html(text: str) -> str:
    """Sanitised HTML for one line of Markdown: a choice option (`` `[0]` `` shows as code),
    with no block elements and no links, so an option stays a label the candidate can click."""
    return nh3.clean(_markdown().renderInline(text), tags=INLINE_TAGS, attributes={})
