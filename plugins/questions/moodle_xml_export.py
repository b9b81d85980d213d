"""Writing the bank as Moodle XML.

Text is written as Markdown (``format="markdown"``, which Moodle renders) so bodies round-trip
unchanged; options are ``plain_text``. All-or-nothing multiple choice is written as
``multichoiceset``, the type of Moodle's widely used All-or-Nothing plugin: writing it as plain
``multichoice`` would silently change how it is marked. What Moodle cannot express is left out
and reported: coding questions and regular-expression short answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from plugins.questions.interchange import ExportItem, ExportResult, escape_star


class _Skip(Exception):
    """This question cannot be written in the format; the message says why."""


def export(items: Sequence[ExportItem]) -> ExportResult:
    quiz = Element("quiz")
    result = ExportResult(text="", exported=0)
    category: list[str] | None = None
    for item in items:
        writer = WRITERS.get(item.type)
        try:
            if writer is None:
                raise _Skip(f"Moodle XML has no standard {item.type} question type")
            question = Element("question", type=_moodle_type(item))
            _common(question, item)
            writer(question, item.payload)
        except _Skip as reason:
            result.skipped.append((item.id, str(reason)))
            continue
        if item.category_path != category:
            category = item.category_path
            _category(quiz, category)
        quiz.append(question)
        result.exported += 1
    indent(quiz)
    result.text = tostring(quiz, encoding="unicode", xml_declaration=True) + "\n"
    return result


def category_text(path: list[str]) -> str:
    return "/".join(["$course$", "top", *(part.replace("/", "//") for part in path)])


def _category(quiz: Element, path: list[str]) -> None:
    if not path:
        return
    question = SubElement(quiz, "question", type="category")
    _text(SubElement(question, "category"), category_text(path))


def _text(parent: Element, value: str, text_format: str | None = None) -> Element:
    if text_format is not None:
        parent.set("format", text_format)
    SubElement(parent, "text").text = value
    return parent


def _moodle_type(item: ExportItem) -> str:
    if item.type == "multiple_choice" and item.payload.get("scoring") == "all_or_nothing":
        return "multichoiceset"
    return MOODLE_TYPES[item.type]


def _common(question: Element, item: ExportItem) -> None:
    _text(SubElement(question, "name"), item.title)
    _text(SubElement(question, "questiontext"), item.body, "markdown")
    _text(SubElement(question, "generalfeedback"), item.explanation, "markdown")
    SubElement(question, "defaultgrade").text = repr(float(item.points))
    SubElement(question, "penalty").text = "0"
    SubElement(question, "hidden").text = "0"
    if item.tags:
        tags = SubElement(question, "tags")
        for tag in item.tags:
            _text(SubElement(tags, "tag"), tag)


def _answer(question: Element, fraction: float, text: str, feedback: str = "") -> Element:
    answer = SubElement(question, "answer", fraction=_percent(fraction), format="plain_text")
    SubElement(answer, "text").text = text
    _text(SubElement(answer, "feedback"), feedback, "plain_text")
    return answer


def _percent(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".") if value else "0"


def _choice(question: Element, payload: dict[str, Any]) -> None:
    options = payload["options"]
    single = payload["type"] == "single_choice"
    SubElement(question, "single").text = "true" if single else "false"
    SubElement(question, "shuffleanswers").text = "1" if payload.get("shuffle_options") else "0"
    SubElement(question, "answernumbering").text = "abc"
    k = sum(bool(o["correct"]) for o in options)
    all_or_nothing = payload.get("scoring") == "all_or_nothing"
    for option in options:
        if single or all_or_nothing:
            fraction = 100.0 if option["correct"] else 0.0
        else:  # partial: each correct pick earns 1/k, each wrong pick loses 1/k
            fraction = (100.0 if option["correct"] else -100.0) / k
        _answer(question, fraction, option["text"], option.get("feedback", ""))


def _true_false(question: Element, payload: dict[str, Any]) -> None:
    _answer(question, 100.0 if payload["answer"] else 0.0, "true")
    _answer(question, 0.0 if payload["answer"] else 100.0, "false")


def _numeric(question: Element, payload: dict[str, Any]) -> None:
    answer = _answer(question, 100.0, repr(float(payload["answer"])))
    SubElement(answer, "tolerance").text = repr(float(payload.get("tolerance", 0.0)))
    if payload.get("unit"):
        unit = SubElement(SubElement(question, "units"), "unit")
        SubElement(unit, "multiplier").text = "1"
        SubElement(unit, "unit_name").text = payload["unit"]


def _short_answer(question: Element, payload: dict[str, Any]) -> None:
    accepted = payload["accepted"]
    if any(a["match"] == "regex" for a in accepted):
        raise _Skip("Moodle short answers cannot carry regular-expression answers")
    exact = all(a["match"] == "exact" for a in accepted)
    SubElement(question, "usecase").text = "1" if exact else "0"
    for answer in accepted:
        _answer(question, 100.0, escape_star(answer["value"]))


def _essay(question: Element, payload: dict[str, Any]) -> None:
    SubElement(question, "responseformat").text = "editor"
    SubElement(question, "responserequired").text = "1"
    SubElement(question, "responsefieldlines").text = "15"
    SubElement(question, "minwordlimit").text = str(payload.get("min_words") or "")
    SubElement(question, "maxwordlimit").text = str(payload.get("max_words") or "")
    lines = [
        f"- **{r['criterion']}** ({r['points']!r} points)"
        + (f": {r['description']}" if r.get("description") else "")
        for r in payload.get("rubric", [])
    ]
    _text(SubElement(question, "graderinfo"), "\n".join(lines), "markdown")
    _text(SubElement(question, "responsetemplate"), "", "html")


MOODLE_TYPES = {
    "single_choice": "multichoice",
    "multiple_choice": "multichoice",
    "true_false": "truefalse",
    "numeric": "numerical",
    "short_answer": "shortanswer",
    "essay": "essay",
}
WRITERS: dict[str, Callable[[Element, dict[str, Any]], None]] = {
    "single_choice": _choice,
    "multiple_choice": _choice,
    "true_false": _true_false,
    "numeric": _numeric,
    "short_answer": _short_answer,
    "essay": _essay,
}
