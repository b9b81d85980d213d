"""What the Moodle XML and GIFT readers and writers share.

A reader turns a file into :class:`Draft` questions (plain field dicts, not yet validated) and
problems; the import service validates every draft with :class:`~plugins.questions.models.
QuestionIn` so a file cannot create anything the API would refuse. A writer turns
:class:`ExportItem` rows into text and says which questions it had to leave out and why.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from core.errors import InvalidInput
from plugins.questions.models import ImportProblem

# Option ids of imported choice questions, by position; payloads allow at most 12 options.
OPTION_IDS = "abcdefghijkl"


class FileRejected(InvalidInput):
    """The file as a whole cannot be read (not XML, forbidden DTD, not UTF-8, too many items)."""

    code = "import_invalid"


class ImportFailed(InvalidInput):
    """Some questions are invalid; ``details`` lists each with its position. Nothing written."""

    code = "import_failed"


class QuestionProblem(Exception):
    """Raised by a reader for one question; becomes an :class:`ImportProblem`."""


class Unsupported(QuestionProblem):
    """The question's type has no counterpart in the bank (matching, cloze, ...)."""


@dataclass
class Draft:
    """One question read from a file: ``fields`` are :class:`QuestionIn` fields, except the
    category, which files name by path (``["Python", "Basics"]``) rather than by id."""

    index: int
    name: str
    line: int | None
    fields: dict[str, Any]
    category_path: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParseResult:
    drafts: list[Draft] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    unsupported: list[ImportProblem] = field(default_factory=list)


@dataclass(frozen=True)
class ExportItem:
    id: int
    type: str
    title: str
    body: str
    points: float
    payload: dict[str, Any]
    explanation: str
    tags: list[str]
    difficulty: str
    category_path: list[str]


@dataclass
class ExportResult:
    text: str
    exported: int
    skipped: list[tuple[int, str]] = field(default_factory=list)


def option_id(position: int) -> str:
    if position >= len(OPTION_IDS):
        raise QuestionProblem(f"at most {len(OPTION_IDS)} options are supported")
    return OPTION_IDS[position]


def problem(
    draft_or_index: Draft | int, name: str, line: int | None, message: str
) -> ImportProblem:
    index = draft_or_index.index if isinstance(draft_or_index, Draft) else draft_or_index
    return ImportProblem(index=index, name=name[:200], line=line, message=message)


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "li"):
            self.parts.append(" ")


def html_to_text(html: str) -> str:
    """Text of a short HTML fragment (an option, a feedback): Moodle wraps even one word in
    ``<p>``, and option text in the bank is plain. The parser only tokenises; it fetches
    nothing and runs nothing."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def parse_number(text: str | None, what: str) -> float:
    try:
        value = float((text or "").strip())
    except ValueError:
        raise QuestionProblem(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise QuestionProblem(f"{what} must be a finite number")
    return value


def wildcard_to_regex(value: str, case_sensitive: bool) -> str | None:
    """Moodle short answers treat ``*`` as "any characters" (``\\*`` is a literal star).
    Returns the equivalent pattern, or None when ``value`` has no wildcard."""
    parts: list[str] = []
    literal = ""
    has_wildcard = False
    chars = iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            literal += following if following == "*" else char + following
        elif char == "*":
            has_wildcard = True
            parts.append(re.escape(literal))
            literal = ""
        else:
            literal += char
    if not has_wildcard:
        return None
    parts.append(re.escape(literal))
    return ("" if case_sensitive else "(?i)") + ".*".join(parts)


def unescape_star(value: str) -> str:
    return value.replace("\\*", "*")


def escape_star(value: str) -> str:
    return value.replace("*", "\\*")
