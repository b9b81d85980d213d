"""Helpers and a bank with every type for the import/export tests."""

from __future__ import annotations

from typing import Any

from tests.questions.conftest import Client

TRICKY = "Use {braces}, a = b, x ~ y, #1: done\\path.\n\nSecond *Markdown* paragraph."

BANK: list[dict[str, Any]] = [
    {
        "type": "single_choice",
        "title": "Pick one: colon",
        "body": TRICKY,
        "points": 2,
        "explanation": "Because = and ~ are special in GIFT.",
        "tags": ["gift", "special chars"],
        "difficulty": "easy",
        "payload": {
            "type": "single_choice",
            "shuffle_options": False,
            "options": [
                {"id": "a", "text": "a = b", "correct": True, "feedback": "Right {really}"},
                {"id": "b", "text": "x ~ y", "correct": False, "feedback": ""},
                {"id": "c", "text": "50% #off", "correct": False, "feedback": "No: #"},
            ],
        },
    },
    {
        "type": "multiple_choice",
        "title": "Primes",
        "body": "Select the primes.",
        "payload": {
            "type": "multiple_choice",
            "scoring": "partial",
            "options": [
                {"id": "a", "text": "2", "correct": True},
                {"id": "b", "text": "3", "correct": True},
                {"id": "c", "text": "4", "correct": False},
                {"id": "d", "text": "5", "correct": True},
            ],
        },
        "difficulty": "hard",
    },
    {
        "type": "multiple_choice",
        "title": "All or nothing",
        "body": "Both or none.",
        "points": 3,
        "payload": {
            "type": "multiple_choice",
            "scoring": "all_or_nothing",
            "options": [
                {"id": "a", "text": "Yes", "correct": True},
                {"id": "b", "text": "Also yes", "correct": True},
                {"id": "c", "text": "No", "correct": False},
            ],
        },
    },
    {
        "type": "true_false",
        "title": "Sky",
        "body": "The sky is green.",
        "payload": {"type": "true_false", "answer": False},
    },
    {
        "type": "numeric",
        "title": "Pi",
        "body": "Give pi to two decimals.",
        "payload": {"type": "numeric", "answer": 3.14, "tolerance": 0.005, "unit": "rad"},
    },
    {
        "type": "numeric",
        "title": "Negative",
        "body": "What is 2 - 7?",
        "payload": {"type": "numeric", "answer": -5, "tolerance": 0},
    },
    {
        "type": "short_answer",
        "title": "Capital",
        "body": "Capital of France?",
        "payload": {
            "type": "short_answer",
            "accepted": [
                {"value": "Paris", "match": "case_insensitive"},
                {"value": "City of *light*", "match": "case_insensitive"},
            ],
        },
    },
    {
        "type": "short_answer",
        "title": "Exact symbol",
        "body": "Chemical symbol of sodium?",
        "payload": {"type": "short_answer", "accepted": [{"value": "Na", "match": "exact"}]},
    },
    {
        "type": "short_answer",
        "title": "Pattern answer",
        "body": "Any even digit.",
        "payload": {"type": "short_answer", "accepted": [{"value": "[02468]", "match": "regex"}]},
    },
    {
        "type": "essay",
        "title": "Essay",
        "body": "Discuss.",
        "points": 10,
        "payload": {
            "type": "essay",
            "min_words": 100,
            "max_words": 500,
            "rubric": [
                {"criterion": "Argument", "points": 6, "description": "Clear thesis."},
                {"criterion": "Style", "points": 4, "description": ""},
            ],
        },
    },
    {
        "type": "coding",
        "title": "Sum two numbers",
        "body": "Print a + b.",
        "payload": {"type": "coding", "languages": ["python"], "hidden": [{"output": "3"}]},
    },
]


async def create_bank(client: Client) -> dict[str, int]:
    """Create :data:`BANK` in the category Physics/Mechanics; returns title -> id."""
    parent = await (
        await client.post("/api/v1/question-categories", json={"name": "Physics"})
    ).json()
    child = await (
        await client.post(
            "/api/v1/question-categories", json={"name": "Mechanics", "parent_id": parent["id"]}
        )
    ).json()
    ids = {}
    for question in BANK:
        response = await client.post(
            "/api/v1/questions", json={**question, "category_id": child["id"]}
        )
        assert response.status == 201, await response.text()
        ids[question["title"]] = (await response.json())["id"]
    return ids


async def import_file(client: Client, data: Any, file_format: str, extra: str = "") -> Any:
    body = data.encode() if isinstance(data, str) else data
    return await client.post(
        f"/api/v1/questions/import?format={file_format}{extra}",
        data=body,
        headers={"Content-Type": "application/octet-stream"},
    )


async def export(client: Client, file_format: str, extra: str = "") -> Any:
    response = await client.get(f"/api/v1/questions/export?format={file_format}{extra}")
    assert response.status == 200, await response.text()
    return response


async def questions_by_title(client: Client) -> dict[str, dict[str, Any]]:
    """Every active question in full, by title."""
    page = await (await client.get("/api/v1/questions?limit=200")).json()
    full = {}
    for item in page["items"]:
        question = await (await client.get(f"/api/v1/questions/{item['id']}")).json()
        full[question["content"]["title"]] = question
    return full


def comparable(question: dict[str, Any]) -> dict[str, Any]:
    """What a round trip must keep (ids, dates and difficulty aside)."""
    content = question["content"]
    return {
        "type": question["type"],
        "tags": question["tags"],
        **{k: content[k] for k in ("title", "body", "points", "payload", "explanation")},
    }


async def assert_nothing_written(client: Client, categories: int = 0) -> None:
    for archived in ("false", "true"):
        page = await (await client.get(f"/api/v1/questions?archived={archived}")).json()
        assert page["total"] == 0
    listed = await (await client.get("/api/v1/question-categories")).json()
    assert len(listed) == categories
