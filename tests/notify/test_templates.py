"""Message templates: per event and language, overridable from a folder, HTML escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugins.notify import render


def test_override_folder_and_language_fallback(tmp_path: Path) -> None:
    (tmp_path / "exam.scheduled.de.txt").write_text(
        "Subject: Prüfung geplant: {{ exam.title }}\nHallo {{ name }}!\n"
    )
    context = {"name": "Jo <b>", "exam": {"title": "Chemie"}, "site": "X", "link": ""}
    german = render.render("exam.scheduled", "de-AT", context, default="en", override=str(tmp_path))
    assert german.language == "de"
    assert german.subject == "Prüfung geplant: Chemie"
    assert german.text == "Hallo Jo <b>!\n"  # plain text is not escaped
    assert german.html == ""  # no German HTML: text only

    english = render.render("exam.scheduled", "fr", context, default="en", override=str(tmp_path))
    assert english.language == "en"
    assert english.subject == "Exam scheduled: Chemie"
    assert "Jo &lt;b&gt;" in english.html
    assert "<b>" not in english.html.replace("<strong>", "")


def test_unknown_template_is_an_error() -> None:
    with pytest.raises(LookupError):
        render.render("no.such.event", "en", {}, default="en")


def test_every_event_has_an_english_text_and_html_template() -> None:
    from plugins.notify.catalog import KINDS  # noqa: PLC0415

    folder = render.BUILT_IN
    for event in KINDS:
        assert (folder / f"{event}.en.txt").is_file(), event
        assert (folder / f"{event}.en.html").is_file(), event
