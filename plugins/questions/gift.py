"""Reading GIFT, Moodle's plain-text question format.

GIFT has no points, difficulty, units, rubrics or all-or-nothing scoring. Moodle ignores comment
lines, so the bank's writer puts what GIFT lacks on one comment line before the question,
``// [invigilator] {"points": 2.0, ...}``, and this reader takes it back; tags use Moodle's own
``// [tag:name]`` comments. A file from elsewhere simply has neither and gets the defaults.
Writing is in :mod:`~plugins.questions.gift_export`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from plugins.questions.interchange import (
    Draft,
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
from plugins.questions.moodle_xml import category_path
from plugins.questions.payloads import Difficulty, RubricCriterion

META_PREFIX = "[invigilator]"
SPECIAL = "~=#{}:\\"
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_TAG = re.compile(r"\[tag:([^\]]{1,64})\]")
_MARKUP = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]")


class GiftMeta(BaseModel):
    """The bank's comment line: only what GIFT syntax cannot say."""

    model_config = ConfigDict(extra="forbid")

    points: float | None = None
    difficulty: Difficulty | None = None
    scoring: Literal["all_or_nothing", "partial"] | None = None
    shuffle_options: bool | None = None
    unit: str | None = None
    match: Literal["exact"] | None = None
    rubric: list[RubricCriterion] | None = Field(None, max_length=20)
    min_words: int | None = None
    max_words: int | None = None


def parse(text: str) -> ParseResult:
    result = ParseResult()
    category: list[str] = []
    index = 0
    for line, comments, lines in _blocks(text):
        content = lines
        if content[0].strip().startswith("$CATEGORY:"):
            category = category_path(content[0].strip()[len("$CATEGORY:") :])
            content = content[1:]
            if not "".join(content).strip():
                continue
        index += 1
        raw = "\n".join(content).strip()
        name = _unescape(raw[2 : _find(raw, "::", 2)]).strip() if raw.startswith("::") else ""
        draft = Draft(index=index, name=name, line=line, fields={}, category_path=category)
        try:
            draft.fields = _question(raw, _meta(comments), draft)
            draft.fields["tags"] = [t.strip() for c in comments for t in _TAG.findall(c)]
            result.drafts.append(draft)
        except Unsupported as error:
            result.unsupported.append(problem(index, name, line, str(error)))
        except QuestionProblem as error:
            result.problems.append(problem(index, name, line, str(error)))
    return result


def _blocks(text: str) -> list[tuple[int, list[str], list[str]]]:
    """(first line number, comment lines, content lines) of each blank-line-separated block;
    comments before a block belong to it."""
    blocks: list[tuple[int, list[str], list[str]]] = []
    comments: list[str] = []
    content: list[str] = []
    start = 0
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        stripped = line.strip()
        if stripped.startswith("//"):
            comments.append(stripped[2:].strip())
        elif stripped:
            start = start or number
            content.append(line)
        elif content:
            blocks.append((start, comments, content))
            comments, content, start = [], [], 0
    if content:
        blocks.append((start, comments, content))
    return blocks


def _meta(comments: list[str]) -> GiftMeta:
    for comment in comments:
        if comment.startswith(META_PREFIX):
            try:
                return GiftMeta.model_validate_json(comment[len(META_PREFIX) :])
            except ValidationError as error:
                reasons = "; ".join(e["msg"] for e in error.errors(include_url=False))
                raise QuestionProblem(f"the {META_PREFIX} comment is invalid: {reasons}") from None
    return GiftMeta()


def _find(text: str, token: str, start: int = 0) -> int:
    """Index of the first ``token`` at or after ``start`` that is not escaped, else -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(token, i):
            return i
        else:
            i += 1
    return -1


def _split(text: str, markers: str) -> list[tuple[str, str]]:
    """``"=a ~b"`` -> ``[("=", "a "), ("~", "b")]``: pieces led by unescaped markers."""
    positions: list[int] = []
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in markers:
            positions.append(i)
        elif not positions and not text[i].isspace():
            raise QuestionProblem(f"unexpected text before the first answer: {text[:40]!r}")
        i += 1
    ends = [*positions[1:], len(text)]
    return [(text[p], text[p + 1 : end]) for p, end in zip(positions, ends, strict=True)]


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        if char == "n":
            return "\n"
        return char if char in SPECIAL else match.group(0)

    return _ESCAPE.sub(replace, text)


def _question(raw: str, meta: GiftMeta, draft: Draft) -> dict[str, Any]:
    rest = raw[_find(raw, "::", 2) + 2 :] if raw.startswith("::") else raw
    if raw.startswith("::") and _find(raw, "::", 2) < 0:
        raise QuestionProblem("the title has no closing ::")
    opening = _find(rest, "{")
    if opening < 0:
        raise Unsupported("text without an answer block is a description; the bank has none")
    closing = _find(rest, "}", opening + 1)
    if closing < 0:
        raise QuestionProblem("the answer block has no closing }")
    before, block, after = rest[:opening], rest[opening + 1 : closing], rest[closing + 1 :]
    before = _MARKUP.sub("", before, count=1)
    body = _unescape(before).strip()
    if after.strip():  # "missing word": the blank goes where the answers were
        body = f"{body} _____ {_unescape(after).strip()}"
    general = _find(block, "####")
    explanation = _unescape(block[general + 4 :]).strip() if general >= 0 else ""
    block = (block[:general] if general >= 0 else block).strip()
    fields: dict[str, Any] = {
        "title": draft.name or body[:60],
        "body": body,
        "explanation": explanation,
        "points": meta.points if meta.points is not None else 1.0,
        "payload": _payload(block, meta, draft),
    }
    if meta.difficulty is not None:
        fields["difficulty"] = meta.difficulty
    return fields


def _payload(block: str, meta: GiftMeta, draft: Draft) -> dict[str, Any]:
    if not block:
        return {
            "type": "essay",
            "rubric": [r.model_dump() for r in meta.rubric or []],
            "min_words": meta.min_words,
            "max_words": meta.max_words,
        }
    if block.startswith("#"):
        return _numeric(block[1:].strip(), meta, draft)
    verdict = _unescape(block[: _find(block, "#") if _find(block, "#") >= 0 else len(block)])
    if verdict.strip().upper() in ("T", "TRUE", "F", "FALSE"):
        if _find(block, "#") >= 0:
            draft.warnings.append("true/false feedback is not carried")
        return {"type": "true_false", "answer": verdict.strip().upper().startswith("T")}
    if _find(block, "->") >= 0:
        raise Unsupported("matching questions have no counterpart in the bank")
    answers = [_answer(mark, text) for mark, text in _split(block, "=~")]
    if any(mark == "~" for mark, *_ in answers):
        return _choice(answers, meta, draft)
    return _short_answer(answers, meta, draft)


def _answer(mark: str, text: str) -> tuple[str, float | None, str, str]:
    """(mark, weight in percent or None, text, feedback) of one ``=``/``~`` answer."""
    text = text.strip()
    weight = None
    if text.startswith("%"):
        end = text.find("%", 1)
        if end < 0:
            raise QuestionProblem(f"answer weight {text[:20]!r} has no closing %")
        weight = parse_number(text[1:end], "answer weight")
        text = text[end + 1 :]
    cut = _find(text, "#")
    feedback = _unescape(text[cut + 1 :]).strip() if cut >= 0 else ""
    return mark, weight, _unescape(text[:cut] if cut >= 0 else text).strip(), feedback


def _choice(
    answers: list[tuple[str, float | None, str, str]], meta: GiftMeta, draft: Draft
) -> dict[str, Any]:
    full = [a for a in answers if a[0] == "="]
    options: list[dict[str, Any]] = [
        {"id": option_id(n), "text": html_to_text(text) if "<" in text else text, "feedback": fb}
        for n, (_, _, text, fb) in enumerate(answers)
    ]
    shuffle = meta.shuffle_options if meta.shuffle_options is not None else True
    if len(full) > 1:
        raise QuestionProblem("several answers are marked =; use ~%weight% for several answers")
    if full:
        if any(weight for mark, weight, *_ in answers if mark == "~"):
            draft.warnings.append("partial credit on single-answer options is not carried")
        for option, (mark, *_) in zip(options, answers, strict=True):
            option["correct"] = mark == "="
        return {"type": "single_choice", "options": options, "shuffle_options": shuffle}
    for option, (_, weight, *_) in zip(options, answers, strict=True):
        option["correct"] = (weight or 0) > 0
    return {
        "type": "multiple_choice",
        "options": options,
        "shuffle_options": shuffle,
        "scoring": meta.scoring or "partial",
    }


def _short_answer(
    answers: list[tuple[str, float | None, str, str]], meta: GiftMeta, draft: Draft
) -> dict[str, Any]:
    case_sensitive = meta.match == "exact"
    accepted = []
    for _, weight, text, _ in answers:
        if weight is not None and weight < 100:
            draft.warnings.append(f"partial-credit answer {text!r} was dropped")
            continue
        pattern = wildcard_to_regex(text, case_sensitive)
        if pattern is not None:
            accepted.append({"value": pattern, "match": "regex"})
        else:
            match = "exact" if case_sensitive else "case_insensitive"
            accepted.append({"value": unescape_star(text), "match": match})
    if not accepted:
        raise QuestionProblem("a short-answer question needs at least one answer worth 100%")
    return {"type": "short_answer", "accepted": accepted}


def _numeric(spec: str, meta: GiftMeta, draft: Draft) -> dict[str, Any]:
    if spec.startswith(("=", "~")):
        answers = [_answer(mark, text) for mark, text in _split(spec, "=~")]
        right = [a for a in answers if a[0] == "=" and (a[1] is None or a[1] >= 100)]
        if not right:
            raise QuestionProblem("a numerical question needs an answer worth 100%")
        if len(answers) > 1:
            draft.warnings.append("only the first answer worth 100% is kept")
        spec = right[0][2]
    else:
        cut = _find(spec, "#")
        spec = spec[:cut] if cut >= 0 else spec
    if ".." in spec:
        low, high = (parse_number(part, "range bound") for part in spec.split("..", 1))
        answer, tolerance = (low + high) / 2, abs(high - low) / 2
    else:
        value, _, tol = spec.partition(":")
        answer, tolerance = (
            parse_number(value, "answer"),
            abs(parse_number(tol or "0", "tolerance")),
        )
    return {"type": "numeric", "answer": answer, "tolerance": tolerance, "unit": meta.unit or ""}
