"""Grading rules of docs/exams.md, one table per type, plus negative marking and safe regexes."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from plugins.questions.service import GradeResult, apply_negative_marking, grade

OPTIONS = [
    {"id": "a", "text": "A", "correct": True, "feedback": "yes a"},
    {"id": "b", "text": "B", "correct": True},
    {"id": "c", "text": "C", "correct": False, "feedback": "not c"},
    {"id": "d", "text": "D", "correct": False},
]
SINGLE = {"type": "single_choice", "options": [{**o, "correct": o["id"] == "a"} for o in OPTIONS]}
PARTIAL = {"type": "multiple_choice", "scoring": "partial", "options": OPTIONS}
ALL_OR_NOTHING = {"type": "multiple_choice", "scoring": "all_or_nothing", "options": OPTIONS}
THREE_RIGHT = {
    "type": "multiple_choice",
    "options": [{"id": i, "text": i, "correct": i != "d"} for i in "abcd"],
}
TRUE = {"type": "true_false", "answer": True}
NUMERIC = {"type": "numeric", "answer": 0.3, "tolerance": 0.1, "unit": "m"}
EXACT_NUMERIC = {"type": "numeric", "answer": 42}
SHORT = {
    "type": "short_answer",
    "accepted": [
        {"value": "Paris", "match": "exact"},
        {"value": "la  ville lumière", "match": "case_insensitive"},
        {"value": r"(?i)lut[eè]ce|\d{3}", "match": "regex"},
    ],
}
ESSAY = {"type": "essay", "rubric": [{"criterion": "Clarity", "points": 2}]}
CODING = {"type": "coding", "languages": ["python"], "hidden": [{"output": "1"}]}

# (payload, response, fraction, correct, blank)
CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None, float | None, bool | None, bool]] = [
    ("single right", SINGLE, {"selected": ["a"]}, 1.0, True, False),
    ("single wrong", SINGLE, {"selected": ["c"]}, 0.0, False, False),
    ("single two picks", SINGLE, {"selected": ["a", "c"]}, 0.0, False, False),
    ("single unknown id", SINGLE, {"selected": ["zz"]}, 0.0, False, False),
    ("single empty", SINGLE, {"selected": []}, 0.0, False, True),
    ("single never answered", SINGLE, None, 0.0, False, True),
    ("partial all right", PARTIAL, {"selected": ["a", "b"]}, 1.0, True, False),
    ("partial one of two", PARTIAL, {"selected": ["a"]}, 0.5, False, False),
    ("partial right and wrong cancel", PARTIAL, {"selected": ["a", "c"]}, 0.0, False, False),
    ("partial all right one wrong", PARTIAL, {"selected": ["a", "b", "c"]}, 0.5, False, False),
    ("partial floored at zero", PARTIAL, {"selected": ["c", "d"]}, 0.0, False, False),
    ("partial everything ticked", PARTIAL, {"selected": ["a", "b", "c", "d"]}, 0.0, False, False),
    ("partial duplicate pick counts once", PARTIAL, {"selected": ["a", "a"]}, 0.5, False, False),
    ("partial k=3 two right", THREE_RIGHT, {"selected": ["a", "b"]}, 2 / 3, False, False),
    (
        "partial k=3 two right one wrong",
        THREE_RIGHT,
        {"selected": ["a", "b", "d"]},
        1 / 3,
        False,
        False,
    ),
    ("partial blank", PARTIAL, {"selected": []}, 0.0, False, True),
    ("all-or-nothing right", ALL_OR_NOTHING, {"selected": ["b", "a"]}, 1.0, True, False),
    ("all-or-nothing missing one", ALL_OR_NOTHING, {"selected": ["a"]}, 0.0, False, False),
    ("all-or-nothing extra", ALL_OR_NOTHING, {"selected": ["a", "b", "d"]}, 0.0, False, False),
    ("true right", TRUE, {"value": True}, 1.0, True, False),
    ("true wrong", TRUE, {"value": False}, 0.0, False, False),
    ("true blank", TRUE, {"value": None}, 0.0, False, True),
    ("numeric exact", NUMERIC, {"value": 0.3}, 1.0, True, False),
    ("numeric on upper boundary", NUMERIC, {"value": 0.4}, 1.0, True, False),
    ("numeric on lower boundary", NUMERIC, {"value": 0.2}, 1.0, True, False),
    ("numeric just outside", NUMERIC, {"value": 0.4001}, 0.0, False, False),
    ("numeric far", NUMERIC, {"value": -3}, 0.0, False, False),
    ("numeric blank", NUMERIC, {"value": None}, 0.0, False, True),
    ("numeric zero tolerance", EXACT_NUMERIC, {"value": 42.0}, 1.0, True, False),
    ("numeric zero tolerance off", EXACT_NUMERIC, {"value": 42.01}, 0.0, False, False),
    ("short exact", SHORT, {"text": "  Paris "}, 1.0, True, False),
    ("short exact wrong case", SHORT, {"text": "paris"}, 0.0, False, False),
    ("short case-insensitive", SHORT, {"text": "LA VILLE   Lumière"}, 1.0, True, False),
    (
        "short case-insensitive decomposed",
        SHORT,
        {"text": "la ville lumie\u0300re"},
        1.0,
        True,
        False,
    ),
    ("short regex", SHORT, {"text": "LUTÈCE"}, 1.0, True, False),
    ("short regex is a full match", SHORT, {"text": "1234"}, 0.0, False, False),
    ("short regex digits", SHORT, {"text": "123"}, 1.0, True, False),
    ("short wrong", SHORT, {"text": "Lyon"}, 0.0, False, False),
    ("short blank", SHORT, {"text": "   "}, 0.0, False, True),
    ("short over 500 chars never matches regex", SHORT, {"text": "1" * 501}, 0.0, False, False),
    ("essay waits for a person", ESSAY, {"text": "Some words."}, None, None, False),
    ("essay blank", ESSAY, {"text": ""}, None, None, True),
    (
        "coding waits for the judge",
        CODING,
        {"language": "python", "code": "print(1)"},
        None,
        None,
        False,
    ),
    ("coding blank", CODING, {"language": "python", "code": "  "}, None, None, True),
    ("malformed response counts as blank", SINGLE, {"selected": "a"}, 0.0, False, True),
    ("response of another type", TRUE, {"text": "true"}, 0.0, False, True),
]


@pytest.mark.parametrize(
    ("payload", "response", "fraction", "correct", "blank"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_grade(
    payload: dict[str, Any],
    response: dict[str, Any] | None,
    fraction: float | None,
    correct: bool | None,
    blank: bool,
) -> None:
    result = grade(payload, response)
    if fraction is None:
        assert result.fraction is None
    else:
        assert result.fraction == pytest.approx(fraction)
    assert (result.correct, result.blank) == (correct, blank)


def test_feedback_of_the_picked_options() -> None:
    assert grade(PARTIAL, {"selected": ["a", "c"]}).feedback == "yes a\nnot c"
    assert grade(PARTIAL, {"selected": ["b"]}).feedback == ""
    assert grade(PARTIAL, {"selected": ["a", "a"]}).feedback == "yes a"


# (result, negative marking, final fraction)
NEGATIVE = [
    ("wrong loses the penalty", GradeResult(0.0, False, False), 0.25, -0.25),
    ("blank is never penalised", GradeResult(0.0, False, True), 0.25, 0.0),
    ("right keeps full marks", GradeResult(1.0, True, False), 0.5, 1.0),
    ("partial is not penalised", GradeResult(0.5, False, False), 0.5, 0.5),
    ("no negative marking", GradeResult(0.0, False, False), 0.0, 0.0),
    ("full penalty", GradeResult(0.0, False, False), 1.0, -1.0),
]


@pytest.mark.parametrize(
    ("result", "negative", "expected"), [c[1:] for c in NEGATIVE], ids=[c[0] for c in NEGATIVE]
)
def test_negative_marking(result: GradeResult, negative: float, expected: float) -> None:
    assert apply_negative_marking(result, negative) == pytest.approx(expected)


def test_negative_marking_end_to_end_on_partial_choice() -> None:
    wrong_only = grade(PARTIAL, {"selected": ["c"]})
    cancelled = grade(PARTIAL, {"selected": ["a", "c"]})
    half = grade(PARTIAL, {"selected": ["a"]})
    assert apply_negative_marking(wrong_only, 0.5) == -0.5
    assert apply_negative_marking(cancelled, 0.5) == -0.5  # floored to 0, then fully wrong
    assert apply_negative_marking(half, 0.5) == 0.5


@pytest.mark.parametrize("negative", [-0.1, 1.5])
def test_negative_marking_out_of_range(negative: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        apply_negative_marking(GradeResult(0.0, False, False), negative)


def test_negative_marking_refuses_ungraded_items() -> None:
    with pytest.raises(ValueError, match="person or the judge"):
        apply_negative_marking(grade(ESSAY, {"text": "x"}), 0.25)


def test_catastrophic_pattern_times_out_quickly(caplog: pytest.LogCaptureFixture) -> None:
    hostile = {"value": "(.*a){100}b", "match": "regex"}  # seconds without a timeout
    payload = {"type": "short_answer", "accepted": [hostile] * 20}
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="invigilator.questions"):
        result = grade(payload, {"text": "a" * 500})
    assert time.perf_counter() - started < 2
    assert result.fraction == 0.0
    assert "timed out" in caplog.text


def test_stored_unsafe_pattern_never_runs() -> None:
    """A pattern that slipped past validation (older data) is refused at grading time too."""
    payload = {
        "type": "short_answer",
        "accepted": [{"value": "((a{1000}){1000}){1000}", "match": "regex"}],
    }
    assert grade(payload, {"text": "a"}).fraction == 0.0
