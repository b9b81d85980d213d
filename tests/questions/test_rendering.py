"""Question bodies reach candidates as sanitised HTML."""

from __future__ import annotations

import pytest

from plugins.questions.rendering import body_html


def test_markdown_is_rendered() -> None:
    html = body_html("What does `17 // 5` evaluate to?\n\n* one\n* **two**")
    assert "<code>17 // 5</code>" in html
    assert "<li><strong>two</strong></li>" in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>hello",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        '<p style="position:fixed">x</p>',
        "<iframe src=https://example.com></iframe>",
        "[x](javascript:alert(1))",
    ],
)
def test_hostile_html_is_removed(hostile: str) -> None:
    html = body_html(hostile).lower()
    for banned in ("<script", "onerror", 'href="javascript', "style=", "<iframe", "<img"):
        assert banned not in html


def test_moodle_html_survives_safely() -> None:
    html = body_html(
        '<p>Pick the <b>largest</b> value.</p><a href="https://docs.python.org">doc</a>'
    )
    assert "<b>largest</b>" in html
    assert 'href="https://docs.python.org"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
