"""Reading Moodle XML question files (what Moodle's question bank exports).

Files come from teachers and are parsed with ``defusedxml`` with DTDs forbidden outright: a
Moodle export never carries one, and refusing them removes entity-expansion bombs and external
entities (file or network reads) in one rule. Each ``<question>`` becomes a :class:`Draft`;
``<question type="category">`` sets the category of those after it. Writing is in
:mod:`~plugins.questions.moodle_xml_export`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from plugins.questions.interchange import (
    Draft,
    FileRejected,
    ParseResult,
    QuestionProblem,
    Unsupported,
    html_to_text,
    option_id,
    parse_number,
    problem,
    unescape_star,
    wildcard_to_regex,
)

FULL = 99.999  # Moodle writes 100% as "100" or "100.0000000"
_RUBRIC_LINE = re.compile(
    r"^- \*\*(?P<name>.+?)\*\* \((?P<points>[0-9.]+) points?\)(?:: (?P<d>.*))?$"
)


def parse(data: bytes) -> ParseResult:
    """Read a whole file; raises :class:`FileRejected` when it is not a Moodle XML quiz."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise FileRejected(
            "the file declares a DTD or entities; Moodle never writes them and imports refuse "
            "them (they can expand into gigabytes or read files from the server)"
        ) from None
    except ParseError as error:
        line, column = getattr(error, "position", (None, None))
        raise FileRejected(
            f"the file is not well-formed XML: {error}", details={"line": line, "column": column}
        ) from None
    if root.tag != "quiz":
        raise FileRejected(f"the root element is <{root.tag}>; a Moodle XML file has <quiz>")
    result = ParseResult()
    category: list[str] = []
    index = 0
    for element in root.iter("question"):
        kind = element.get("type", "")
        if kind == "category":
            category = category_path(_text(element, "category"))
            continue
        index += 1
        name = _text(element, "name")
        reader = READERS.get(kind)
        try:
            if reader is None:
                raise Unsupported(f"question type {kind!r} has no counterpart in the bank")
            draft = Draft(index=index, name=name, line=None, fields={}, category_path=category)
            draft.fields = {**_common(element, draft), **reader(element, draft)}
            result.drafts.append(draft)
        except Unsupported as error:
            result.unsupported.append(problem(index, name, None, str(error)))
        except QuestionProblem as error:
            result.problems.append(problem(index, name, None, str(error)))
    return result


def category_path(text: str) -> list[str]:
    """``$course$/top/Python//Data/Basics`` -> ``["Python/Data", "Basics"]`` (``//`` escapes a
    slash; the context token and Moodle's ``top`` are not categories of the bank)."""
    parts = [p.replace("\x00", "/").strip() for p in text.replace("//", "\x00").split("/")]
    parts = [p for p in parts if p]
    if parts and parts[0].startswith("$") and parts[0].endswith("$"):
        parts = parts[1:]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return parts


def _text(element: Element, path: str) -> str:
    node = element.find(f"{path}/text")
    return (node.text or "") if node is not None else ""


def _common(element: Element, draft: Draft) -> dict[str, Any]:
    if element.find(".//file") is not None:
        draft.warnings.append("embedded files (images) are not carried and were dropped")
    grade = element.findtext("defaultgrade")
    tags = [(tag.text or "").strip() for tag in element.findall("tags/tag/text")]
    return {
        "title": draft.name.strip(),
        "body": _text(element, "questiontext"),
        "points": parse_number(grade, "defaultgrade") if grade is not None else 1.0,
        "explanation": _text(element, "generalfeedback"),
        "tags": [tag for tag in tags if tag],
    }


def _answers(element: Element) -> list[tuple[float, str, str, str]]:
    """(fraction in percent, text, text format, plain feedback) of each ``<answer>``."""
    answers = []
    for answer in element.findall("answer"):
        fraction = parse_number(answer.get("fraction", "0"), "answer fraction")
        text = answer.findtext("text") or ""
        node = answer.find("feedback")
        feedback = (
            "" if node is None else _plain(_text(answer, "feedback"), node.get("format", "html"))
        )
        answers.append((fraction, text, answer.get("format", "html"), feedback))
    return answers


def _plain(text: str, text_format: str) -> str:
    return html_to_text(text) if text_format == "html" else text.strip()


def _flag(element: Element, name: str, default: bool) -> bool:
    value = (element.findtext(name) or "").strip().lower()
    return default if not value else value in ("1", "true")


def _multichoice(element: Element, draft: Draft, *, all_or_nothing: bool = False) -> dict[str, Any]:
    answers = _answers(element)
    options = [
        {
            "id": option_id(position),
            "text": _plain(text, text_format),
            "correct": fraction > 0,
            "feedback": feedback,
        }
        for position, (fraction, text, text_format, feedback) in enumerate(answers)
    ]
    shuffle = _flag(element, "shuffleanswers", True)
    if not all_or_nothing and _flag(element, "single", True):
        if sum(fraction >= FULL for fraction, *_ in answers) != 1:
            raise QuestionProblem("a single-answer question needs exactly one answer worth 100%")
        if any(0 < fraction < FULL for fraction, *_ in answers):
            draft.warnings.append("partial credit on single-answer options is not carried")
        for option, (fraction, *_) in zip(options, answers, strict=True):
            option["correct"] = fraction >= FULL
        return {
            "payload": {"type": "single_choice", "options": options, "shuffle_options": shuffle}
        }
    positive = [fraction for fraction, *_ in answers if fraction > 0]
    if not all_or_nothing and any(abs(f - 100 / len(positive)) > 0.5 for f in positive):
        draft.warnings.append("unequal option weights became equal shares of the points")
    return {
        "payload": {
            "type": "multiple_choice",
            "options": options,
            "shuffle_options": shuffle,
            "scoring": "all_or_nothing" if all_or_nothing else "partial",
        }
    }


def _truefalse(element: Element, draft: Draft) -> dict[str, Any]:
    right = [text.strip().lower() for fraction, text, _, _ in _answers(element) if fraction >= FULL]
    if len(right) != 1 or right[0] not in ("true", "false"):
        raise QuestionProblem("a true/false question needs one of true/false worth 100%")
    if any(feedback.strip() for *_, feedback in _answers(element)):
        draft.warnings.append("true/false answer feedback is not carried")
    return {"payload": {"type": "true_false", "answer": right[0] == "true"}}


def _shortanswer(element: Element, draft: Draft) -> dict[str, Any]:
    case_sensitive = (element.findtext("usecase") or "0").strip() == "1"
    accepted = []
    for fraction, text, _, _ in _answers(element):
        value = text.strip()
        if 0 < fraction < FULL:
            draft.warnings.append(f"partial-credit answer {value!r} was dropped")
        if fraction < FULL or not value:
            continue
        pattern = wildcard_to_regex(value, case_sensitive)
        if pattern is not None:
            accepted.append({"value": pattern, "match": "regex"})
        else:
            match = "exact" if case_sensitive else "case_insensitive"
            accepted.append({"value": unescape_star(value), "match": match})
    if not accepted:
        raise QuestionProblem("a short-answer question needs at least one answer worth 100%")
    return {"payload": {"type": "short_answer", "accepted": accepted}}


def _numerical(element: Element, draft: Draft) -> dict[str, Any]:
    right = [
        answer
        for answer in element.findall("answer")
        if parse_number(answer.get("fraction", "0"), "answer fraction") >= FULL
        and (answer.findtext("text") or "").strip() != "*"
    ]
    if not right:
        raise QuestionProblem("a numerical question needs an answer worth 100%")
    if len(right) > 1:
        draft.warnings.append("only the first answer worth 100% is kept")
    tolerance = right[0].findtext("tolerance")
    units = [
        (u.findtext("unit_name") or "").strip()
        for u in element.findall("units/unit")
        if parse_number(u.findtext("multiplier") or "1", "unit multiplier") == 1
    ]
    if len(element.findall("units/unit")) > len(units[:1]):
        draft.warnings.append("only the unit with multiplier 1 is kept")
    return {
        "payload": {
            "type": "numeric",
            "answer": parse_number(right[0].findtext("text"), "answer"),
            "tolerance": abs(parse_number(tolerance, "tolerance")) if tolerance else 0.0,
            "unit": units[0] if units else "",
        }
    }


def _essay(element: Element, draft: Draft) -> dict[str, Any]:
    def limit(name: str) -> int | None:
        value = (element.findtext(name) or "").strip()
        number = int(parse_number(value, name)) if value else 0
        return number if number > 0 else None  # Moodle writes 0 or nothing for "no limit"

    info = _text(element, "graderinfo").strip()
    rubric = [m.groupdict() for m in map(_RUBRIC_LINE.match, info.splitlines()) if m]
    if info and len(rubric) != len(info.splitlines()):
        rubric = []
        draft.warnings.append("grader information is not a rubric list and was dropped")
    return {
        "payload": {
            "type": "essay",
            "rubric": [
                {"criterion": r["name"], "points": float(r["points"]), "description": r["d"] or ""}
                for r in rubric
            ],
            "min_words": limit("minwordlimit"),
            "max_words": limit("maxwordlimit"),
        }
    }


READERS: dict[str, Callable[[Element, Draft], dict[str, Any]]] = {
    "multichoice": _multichoice,
    "multichoiceset": lambda element, draft: _multichoice(element, draft, all_or_nothing=True),
    "truefalse": _truefalse,
    "shortanswer": _shortanswer,
    "numerical": _numerical,
    "essay": _essay,
}
