"""Message templates: ``<event>.<lang>.txt`` (first line is the subject) and ``.html``.

Templates are Jinja2, looked up first in ``[notify] templates_folder`` (so an operator can
reword or translate a message without touching the code) and then in the built-in
``templates/notify/messages``. The HTML template is autoescaped, the text one is not (it is
never shown as HTML). A missing language falls back to the default language, then English.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

BUILT_IN = Path(__file__).parent / "templates" / "notify" / "messages"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str


@lru_cache(maxsize=8)
def _environments(override: str) -> tuple[jinja2.Environment, jinja2.Environment]:
    folders = [Path(override)] if override else []
    loader = jinja2.FileSystemLoader([*folders, BUILT_IN])
    text = jinja2.Environment(loader=loader, autoescape=False, keep_trailing_newline=True)  # noqa: S701 (plain text)
    html = jinja2.Environment(loader=loader, autoescape=True)
    return text, html


def languages_to_try(language: str, default: str) -> list[str]:
    tried: list[str] = []
    for lang in (language, language.split("-", maxsplit=1)[0], default, "en"):
        if lang and lang not in tried:
            tried.append(lang)
    return tried


def render(
    template: str, language: str, context: dict[str, Any], *, default: str, override: str = ""
) -> Rendered:
    """Render ``template`` in the first available language; raises ``LookupError`` if none."""
    text_env, html_env = _environments(override)
    for lang in languages_to_try(language, default):
        try:
            text_template = text_env.get_template(f"{template}.{lang}.txt")
        except jinja2.TemplateNotFound:
            continue
        subject, _, body = text_template.render(context).lstrip().partition("\n")
        try:
            html = html_env.get_template(f"{template}.{lang}.html").render(
                {**context, "subject": subject}
            )
        except jinja2.TemplateNotFound:
            html = ""
        return Rendered(subject.removeprefix("Subject:").strip(), body.strip() + "\n", html, lang)
    raise LookupError(f"no template {template!r} in {languages_to_try(language, default)}")
