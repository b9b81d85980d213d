"""The candidate's view of a question: everything needed to answer, nothing that gives it away."""

from __future__ import annotations

import json
from typing import Any

import pytest

from plugins.questions.service import candidate_view, option_ids, shuffleable
from plugins.questions.tables import QuestionVersion

SECRET = "SECRET"  # planted in every field a candidate must never see

PAYLOADS: dict[str, dict[str, Any]] = {
    "single_choice": {
        "type": "single_choice",
        "shuffle_options": False,
        "options": [
            {"id": "a", "text": "Paris", "correct": True, "feedback": f"{SECRET} right"},
            {"id": "b", "text": "Lyon", "correct": False, "feedback": f"{SECRET} wrong"},
        ],
    },
    "multiple_choice": {
        "type": "multiple_choice",
        "options": [
            {"id": "x1", "text": "One", "correct": True, "feedback": SECRET},
            {"id": "x2", "text": "Two", "correct": False},
            {"id": "x3", "text": "Three", "correct": True},
        ],
    },
    "true_false": {"type": "true_false", "answer": True},
    "numeric": {"type": "numeric", "answer": 9.81, "tolerance": 0.01, "unit": "m/s²"},
    "short_answer": {
        "type": "short_answer",
        "accepted": [{"value": f"{SECRET}1", "match": "exact"}, {"value": f"{SECRET}2.*"}],
    },
    "essay": {
        "type": "essay",
        "rubric": [{"criterion": f"{SECRET} criterion", "points": 3, "description": SECRET}],
        "min_words": 10,
        "max_words": 200,
    },
    "coding": {
        "type": "coding",
        "languages": ["python", "c"],
        "starter_code": {"python": "print()", "rust": f"{SECRET} not offered"},
        "samples": [{"input": "1 2", "output": "3", "weight": 1}],
        "hidden": [{"input": f"{SECRET} in", "output": f"{SECRET} out", "weight": 5}],
        "checker": "exact",
    },
}


def version(kind: str) -> QuestionVersion:
    return QuestionVersion(
        id=7,
        question_id=3,
        version=2,
        title="Title",
        body="Body",
        points=2.0,
        payload=PAYLOADS[kind],
        explanation=f"{SECRET} explanation",
    )


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_no_answer_leaks(kind: str) -> None:
    view = candidate_view(version(kind), None)
    text = json.dumps(view)
    assert SECRET not in text
    for word in ("correct", "feedback", "accepted", "explanation", "rubric", "hidden", "answer"):
        assert f'"{word}"' not in text, word
    assert view["version_id"] == 7
    assert (view["type"], view["title"], view["body"], view["points"]) == (
        kind,
        "Title",
        "Body",
        2.0,
    )


def test_what_each_type_shows() -> None:
    assert candidate_view(version("numeric"))["unit"] == "m/s²"
    essay = candidate_view(version("essay"))
    assert (essay["min_words"], essay["max_words"]) == (10, 200)
    coding = candidate_view(version("coding"))
    assert coding["languages"] == ["python", "c"]
    assert coding["starter_code"] == {"python": "print()"}
    assert coding["samples"] == [{"input": "1 2", "output": "3"}]
    assert (coding["time_limit_ms"], coding["memory_limit_mb"]) == (2000, 256)
    assert set(candidate_view(version("true_false"))) == {
        "version_id",
        "type",
        "title",
        "body",
        "body_html",
        "points",
    }


def test_options_in_the_papers_order() -> None:
    view = candidate_view(version("multiple_choice"), ["x3", "x1", "x2"])
    assert view["options"] == [
        {"id": "x3", "text": "Three", "text_html": "Three"},
        {"id": "x1", "text": "One", "text_html": "One"},
        {"id": "x2", "text": "Two", "text_html": "Two"},
    ]
    assert [o["id"] for o in candidate_view(version("multiple_choice"))["options"]] == [
        "x1",
        "x2",
        "x3",
    ]


@pytest.mark.parametrize("order", [["x1", "x2"], ["x1", "x2", "x3", "x3"], ["x1", "x2", "zz"]])
def test_option_order_must_be_a_permutation(order: list[str]) -> None:
    with pytest.raises(ValueError, match="every option id exactly once"):
        candidate_view(version("multiple_choice"), order)


def test_points_override() -> None:
    assert candidate_view(version("true_false"), points=5)["points"] == 5


def test_shuffleable_and_option_ids() -> None:
    assert shuffleable(version("multiple_choice"))  # shuffle_options defaults to true
    assert not shuffleable(version("single_choice"))  # switched off
    assert not shuffleable(version("true_false"))
    assert option_ids(version("multiple_choice")) == ["x1", "x2", "x3"]
    assert option_ids(version("numeric")) == []


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("`[0]`", "<code>[0]</code>"),
        ("**all** of them", "<strong>all</strong> of them"),
        ("a < b & c", "a &lt; b &amp; c"),
        ('<img src=x onerror="alert(1)">x', "x"),
        ("[link](javascript:alert(1))", "[link](javascript:alert(1))"),  # refused: text
        ("# not a heading", "# not a heading"),
    ],
)
def test_options_are_inline_markdown_made_safe(text: str, html: str) -> None:
    options = [{"id": "a", "text": text, "correct": True}, {"id": "b", "text": "other"}]
    payload = {"type": "single_choice", "shuffle_options": False, "options": options}
    row = QuestionVersion(id=1, question_id=1, version=1, title="T", body="B", payload=payload)
    option = candidate_view(row)["options"][0]
    assert (option["text"], option["text_html"]) == (text, html)
