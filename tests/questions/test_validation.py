"""Every invalid question body is a 422 naming the problem, never a 500 or a silent fix."""

from __future__ import annotations

from typing import Any

import pytest

from tests.questions.conftest import Client, single_choice

pytestmark = pytest.mark.usefixtures("examiner")


def options(*correct: bool) -> list[dict[str, Any]]:
    return [
        {"id": "abcdefghijklmn"[n], "text": f"O{n}", "correct": c} for n, c in enumerate(correct)
    ]


def with_payload(payload: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return single_choice(type=payload["type"], payload=payload, **overrides)


SC = "single_choice"
# (case, body, text expected in one error's loc or message)
INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("payload type differs from type", single_choice(type="multiple_choice"), "payload.type"),
    ("unknown payload type", with_payload({"type": "matching"}), "union_tag_invalid"),
    ("unknown field", single_choice(dificulty="easy"), "dificulty"),
    ("empty title", single_choice(title="   "), "title"),
    ("title too long", single_choice(title="t" * 201), "title"),
    ("body too long", single_choice(body="b" * 50_001), "body"),
    ("zero points", single_choice(points=0), "points"),
    ("absurd points", single_choice(points=10_000), "points"),
    ("bad difficulty", single_choice(difficulty="trivial"), "difficulty"),
    ("too many tags", single_choice(tags=[f"t{n}" for n in range(21)]), "tags"),
    ("tag too long", single_choice(tags=["x" * 65]), "tags"),
    ("tag with markup", single_choice(tags=["<b>"]), "tags"),
    (
        "no correct option",
        with_payload({"type": SC, "options": options(False, False)}),
        "exactly one",
    ),
    (
        "two correct options",
        with_payload({"type": SC, "options": options(True, True)}),
        "exactly one",
    ),
    ("one option", with_payload({"type": SC, "options": options(True)}), "options"),
    ("13 options", with_payload({"type": SC, "options": options(True, *[False] * 12)}), "options"),
    (
        "duplicate option ids",
        with_payload(
            {
                "type": SC,
                "options": [{"id": "a", "text": "x", "correct": True}, {"id": "a", "text": "y"}],
            }
        ),
        "unique",
    ),
    (
        "bad option id",
        with_payload(
            {
                "type": SC,
                "options": [{"id": "A!", "text": "x", "correct": True}, {"id": "b", "text": "y"}],
            }
        ),
        "id",
    ),
    (
        "multiple choice without a correct option",
        with_payload({"type": "multiple_choice", "options": options(False, False, False)}),
        "at least one correct",
    ),
    (
        "bad scoring",
        with_payload(
            {"type": "multiple_choice", "options": options(True, False), "scoring": "half"}
        ),
        "scoring",
    ),
    ("true/false without answer", with_payload({"type": "true_false"}), "answer"),
    (
        "numeric negative tolerance",
        with_payload({"type": "numeric", "answer": 1, "tolerance": -1}),
        "tolerance",
    ),
    ("numeric not a number", with_payload({"type": "numeric", "answer": "ten"}), "answer"),
    (
        "short answer with nothing accepted",
        with_payload({"type": "short_answer", "accepted": []}),
        "accepted",
    ),
    (
        "invalid regex",
        with_payload(
            {"type": "short_answer", "accepted": [{"value": "(unclosed", "match": "regex"}]}
        ),
        "not a valid regular expression",
    ),
    (
        "regex that explodes when compiled",
        with_payload(
            {
                "type": "short_answer",
                "accepted": [{"value": "((a{1000}){1000}){1000}", "match": "regex"}],
            }
        ),
        "repeat counts are too large",
    ),
    (
        "unknown match mode",
        with_payload({"type": "short_answer", "accepted": [{"value": "x", "match": "fuzzy"}]}),
        "match",
    ),
    (
        "essay rubric with zero points",
        with_payload({"type": "essay", "rubric": [{"criterion": "c", "points": 0}]}),
        "points",
    ),
    ("coding without languages", with_payload({"type": "coding", "languages": []}), "languages"),
    (
        "coding time limit",
        with_payload({"type": "coding", "languages": ["python"], "time_limit_ms": 10}),
        "time_limit_ms",
    ),
]


async def test_invalid_create_is_422(client: Client) -> None:
    """One app for the whole table (starting one per case is slow); every case is checked and
    the failures are listed together."""
    failures = []
    for case, body, expected in INVALID:
        response = await client.post("/api/v1/questions", json=body)
        error = (await response.json())["error"] if response.status >= 400 else {}
        described = " ".join(
            ".".join(map(str, d["loc"])) + f" {d['msg']} {d['type']}"
            for d in error.get("details") or []
        )
        if response.status != 422 or error["code"] != "validation_error":
            failures.append(f"{case}: {response.status} {error}")
        elif expected not in described:
            failures.append(f"{case}: {expected!r} not in {described!r}")
    assert not failures, "\n".join(failures)
    assert (await (await client.get("/api/v1/questions")).json())["total"] == 0


INVALID_UPDATES: list[dict[str, Any]] = [
    {"payload": {"type": "true_false"}},
    {"points": -1},
    {"title": ""},
    {"category_id": 0},
    {"base_version": 0},
    {"archived": "maybe"},
    {"colour": "red"},
]
INVALID_QUERIES = [
    "limit=0",
    "limit=100000",
    "offset=-1",
    "type=matching",
    "difficulty=x",
    "archived=perhaps",
    "tag=%3Cb%3E",
    "q=" + "x" * 201,
]


async def test_invalid_update_and_list_query_are_422(client: Client) -> None:
    created = await (await client.post("/api/v1/questions", json=single_choice())).json()
    statuses = {}
    for body in INVALID_UPDATES:
        response = await client.put(f"/api/v1/questions/{created['id']}", json=body)
        statuses[str(body)] = response.status
    for query in INVALID_QUERIES:
        statuses[query] = (await client.get(f"/api/v1/questions?{query}")).status
    assert {k: v for k, v in statuses.items() if v != 422} == {}
    fetched = await (await client.get(f"/api/v1/questions/{created['id']}")).json()
    assert fetched["current_version"] == 1


async def test_not_json_and_wrong_content_type(client: Client) -> None:
    response = await client.post(
        "/api/v1/questions", data=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    response = await client.post(
        "/api/v1/questions", data=b"x", headers={"Content-Type": "text/plain"}
    )
    assert response.status == 415


async def test_non_numeric_question_id_is_not_a_route(client: Client) -> None:
    assert (await client.get("/api/v1/questions/abc")).status in (404, 405)
