"""Automatic grading of one response against one question version's payload.

Pure functions: the exams plugin grades at submit time, and re-grading an old attempt must give
the same result, so nothing here reads the database or configuration. The only clock is the
time budget of regular-expression answers, which matters only for a pattern that never
finishes (and then it counts as no match, every time). The rules are
the ones docs/exams.md states; each branch below names the rule it implements.
"""

from __future__ import annotations

import math
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from plugins.questions import safe_regex
from plugins.questions.payloads import (
    RESPONSE_MODELS,
    AcceptedAnswer,
    MultipleChoice,
    Numeric,
    QuestionPayload,
    ShortAnswer,
    SingleChoice,
    TrueFalse,
)

_PAYLOAD: TypeAdapter[Any] = TypeAdapter(QuestionPayload)
# Floats carry representation error: 0.4 - 0.3 > 0.1. A value on the tolerance boundary is
# inside it, so the comparison allows a few ulps around the answer's magnitude.
_FLOAT_SLACK = 1e-9
REGEX_BUDGET_S = 0.3


@dataclass(frozen=True)
class GradeResult:
    """``fraction`` of the item's points in [0, 1], or None when a person or the judge must
    decide; ``correct`` is True only for full marks; ``blank`` means nothing was answered."""

    fraction: float | None
    correct: bool | None
    blank: bool
    feedback: str = ""


def grade(payload: dict[str, Any], response: dict[str, Any] | None) -> GradeResult:
    """Grade ``response`` (as autosave stored it; None when never answered) against a stored
    ``payload``. A response that does not fit the type's response model counts as blank: it can
    only come from stored data that predates a model change, and it must not be penalised."""
    question = _PAYLOAD.validate_python(payload)
    answer = _parse_response(question.type, response)
    if isinstance(question, SingleChoice | MultipleChoice):
        return _choice(question, answer.selected if answer is not None else [])
    if isinstance(question, TrueFalse):
        value = answer.value if answer is not None else None
        return _blank() if value is None else _scored(value is question.answer)
    if isinstance(question, Numeric):
        return _numeric(question, answer.value if answer is not None else None)
    if isinstance(question, ShortAnswer):
        return _short_answer(question, answer.text if answer is not None else "")
    # essay and coding: a person (or the judge, through invigilator_grade_code) decides.
    text = "" if answer is None else str(getattr(answer, "text", "") or getattr(answer, "code", ""))
    return GradeResult(fraction=None, correct=None, blank=not text.strip())


def apply_negative_marking(result: GradeResult, negative_marking: float) -> float:
    """The fraction after the exam's negative marking: a wrong, non-blank answer (fraction 0)
    scores ``-negative_marking``; blank and partly right answers are never penalised.

    Raises ValueError for an ungraded result (essay, coding): only a person's score counts there.
    """
    if not 0 <= negative_marking <= 1:
        raise ValueError("negative_marking must be between 0 and 1")
    if result.fraction is None:
        raise ValueError("this result needs a person or the judge; there is nothing to mark down")
    if result.fraction == 0 and not result.blank:
        return -negative_marking
    return result.fraction


def _parse_response(kind: str, response: dict[str, Any] | None) -> Any:
    if response is None:
        return None
    try:
        model: type[BaseModel] = RESPONSE_MODELS[kind]
        return model.model_validate(response)
    except ValidationError:
        return None


def _blank() -> GradeResult:
    return GradeResult(fraction=0.0, correct=False, blank=True)


def _scored(right: bool, feedback: str = "") -> GradeResult:
    return GradeResult(
        fraction=1.0 if right else 0.0, correct=right, blank=False, feedback=feedback
    )


def _choice(question: SingleChoice | MultipleChoice, selected: list[str]) -> GradeResult:
    picked = set(selected)
    if not picked:
        return _blank()
    options = {o.id: o for o in question.options}
    feedback = "\n".join(
        options[i].feedback for i in dict.fromkeys(selected) if i in options and options[i].feedback
    )
    right = {o.id for o in question.options if o.correct}
    if isinstance(question, SingleChoice) or question.scoring == "all_or_nothing":
        # Single choice: one pick, the right one; a second pick makes it wrong.
        return _scored(picked == right, feedback)
    # Partial: +1/k per correct pick, -1/k per wrong (unknown ids are wrong), floored at 0.
    k = len(right)
    hits = len(picked & right)
    misses = len(picked - right)
    fraction = max(0.0, (hits - misses) / k)
    return GradeResult(fraction=fraction, correct=fraction == 1.0, blank=False, feedback=feedback)


def _numeric(question: Numeric, value: float | None) -> GradeResult:
    if value is None:
        return _blank()
    if not math.isfinite(value):
        return _scored(False)
    slack = _FLOAT_SLACK * max(1.0, abs(question.answer))
    return _scored(abs(value - question.answer) <= question.tolerance + slack)


def _short_answer(question: ShortAnswer, text: str) -> GradeResult:
    given = text.strip()
    if not given:
        return _blank()
    # One budget for all of an item's patterns: twenty hostile ones must not stall a submit.
    deadline = time.monotonic() + REGEX_BUDGET_S
    return _scored(any(_matches(accepted, given, deadline) for accepted in question.accepted))


def _matches(accepted: AcceptedAnswer, given: str, deadline: float) -> bool:
    """``exact``: same characters after trimming; ``case_insensitive``: also ignores case and
    runs of whitespace (Unicode-normalised, so composed and decomposed accents agree);
    ``regex``: the whole trimmed answer matches, case-sensitive unless the pattern says ``(?i)``."""
    if accepted.match == "exact":
        return given == accepted.value.strip()
    if accepted.match == "case_insensitive":
        return _fold(given) == _fold(accepted.value)
    remaining = min(safe_regex.TIMEOUT_S, deadline - time.monotonic())
    return safe_regex.fullmatch(accepted.value, given, timeout=remaining)


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
