"""Builders shared by the exams tests: users, bank questions, exams through the API, a clock.

Questions are created through the bank's own service (``create_question``), exams and
assignments through the examiner API, so the tests exercise what a real examiner would do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from core.services import Services
from plugins.questions import service as questions
from plugins.questions.models import QuestionIn
from storage.passwords import hash_password
from storage.tables.user import Role, User
from webapp.keys import Principal

Client = TestClient[web.Request, web.Application]
PASSWORD = "correct horse battery staple"
PASSWORD_HASH = hash_password(PASSWORD)  # once: argon2 per user would dominate big tests
SECRET_EXPLANATION = "SECRET-EXPLANATION"
SECRET_FEEDBACK = "SECRET-OPTION-FEEDBACK"
SECRET_HIDDEN = "SECRET-HIDDEN-OUTPUT"

PAYLOADS: dict[str, dict[str, Any]] = {
    "single_choice": {
        "type": "single_choice",
        "options": [
            {"id": "a", "text": "Alpha", "correct": False, "feedback": SECRET_FEEDBACK},
            {"id": "b", "text": "Beta", "correct": True},
            {"id": "c", "text": "Gamma", "correct": False},
            {"id": "d", "text": "Delta", "correct": False},
        ],
    },
    "multiple_choice": {
        "type": "multiple_choice",
        "scoring": "partial",
        "options": [
            {"id": "a", "text": "One", "correct": True},
            {"id": "b", "text": "Two", "correct": True},
            {"id": "c", "text": "Three", "correct": False},
            {"id": "d", "text": "Four", "correct": False},
        ],
    },
    "true_false": {"type": "true_false", "answer": True},
    "numeric": {"type": "numeric", "answer": 3.5, "tolerance": 0.1, "unit": "m"},
    "short_answer": {
        "type": "short_answer",
        "accepted": [{"value": "Paris", "match": "case_insensitive"}],
    },
    "essay": {
        "type": "essay",
        "rubric": [{"criterion": "Content", "points": 3}, {"criterion": "Style", "points": 1}],
    },
    "coding": {
        "type": "coding",
        "languages": ["python"],
        "samples": [{"input": "1 2\n", "output": "3\n"}],
        "hidden": [{"input": "5 5\n", "output": SECRET_HIDDEN}],
    },
}

RIGHT: dict[str, dict[str, Any]] = {
    "single_choice": {"selected": ["b"]},
    "multiple_choice": {"selected": ["a", "b"]},
    "true_false": {"value": True},
    "numeric": {"value": 3.55},
    "short_answer": {"text": "  paris "},
    "essay": {"text": "An essay."},
    "coding": {"language": "python", "code": "a, b = map(int, input().split())\nprint(a + b)\n"},
}
WRONG: dict[str, dict[str, Any]] = {
    "single_choice": {"selected": ["a"]},
    "multiple_choice": {"selected": ["c"]},
    "true_false": {"value": False},
    "numeric": {"value": 4},
    "short_answer": {"text": "Lyon"},
}
BLANK: dict[str, dict[str, Any]] = {
    "single_choice": {"selected": []},
    "multiple_choice": {"selected": []},
    "true_false": {"value": None},
    "numeric": {"value": None},
    "short_answer": {"text": ""},
    "essay": {"text": ""},
    "coding": {"language": "python", "code": ""},
}


def headers(user: User) -> dict[str, str]:
    """Sign ``user`` in for one request (see the header authenticator in conftest)."""
    return {"X-Test-User": f"{user.id}:{user.role}"}


def principal_from(header: str) -> Principal:
    user_id, _, role = header.partition(":")
    return Principal(user_id=user_id, roles=frozenset({role}) if role else frozenset())


async def add_users(services: Services, role: str, count: int, prefix: str = "") -> list[User]:
    """Users created straight in the database, all with :data:`PASSWORD`."""
    tag = prefix or role
    async with services.db.session() as db:
        users = [
            User(
                email=f"{tag}{n}@example.com",
                display_name=f"{tag.title()} {n}",
                role=Role(role),
                password_hash=PASSWORD_HASH,
            )
            for n in range(count)
        ]
        db.add_all(users)
        await db.commit()
    return users


async def add_question(
    services: Services,
    kind: str,
    *,
    tags: Iterable[str] = (),
    points: float = 1.0,
    title: str | None = None,
    payload: dict[str, Any] | None = None,
    difficulty: str = "medium",
) -> int:
    """A bank question (version 1) through the bank's service; returns its id."""
    data = QuestionIn.model_validate(
        {
            "type": kind,
            "title": title or f"A {kind} question",
            "body": f"Body of the {kind} question",
            "points": points,
            "payload": payload or PAYLOADS[kind],
            "explanation": SECRET_EXPLANATION,
            "tags": list(tags),
            "difficulty": difficulty,
        }
    )
    async with services.db.session() as db:
        question, _ = await questions.create_question(db, data=data, author_id=None)
    assert question.id is not None
    return question.id


def fixed(*question_ids: int, points: float | None = None) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for question_id in question_ids:
        rule: dict[str, Any] = {"question_id": question_id}
        if points is not None:
            rule["points"] = points
        rules.append(rule)
    return rules


async def create_exam(
    client: Client,
    examiner: User,
    *,
    sections: Sequence[Sequence[dict[str, Any]]],
    candidates: Sequence[User | dict[str, Any]] = (),
    publish: bool = True,
    **settings: Any,
) -> dict[str, Any]:
    """An exam made through the examiner API (open now, free navigation, no shuffling unless
    asked), with its candidates, published unless ``publish`` is false."""
    body: dict[str, Any] = {
        "title": "Algebra midterm",
        "duration_minutes": 60,
        "shuffle_questions": False,
        "shuffle_options": False,
        "grace_seconds": 30,
        **settings,
        "sections": [{"title": f"Part {n + 1}", "rules": list(r)} for n, r in enumerate(sections)],
    }
    response = await client.post("/api/v1/exams", json=jsonable(body), headers=headers(examiner))
    assert response.status == 201, await response.text()
    exam: dict[str, Any] = await response.json()
    if candidates:
        listed = [c if isinstance(c, dict) else {"user_id": c.id} for c in candidates]
        response = await client.put(
            f"/api/v1/exams/{exam['id']}/candidates",
            json={"candidates": listed},
            headers=headers(examiner),
        )
        assert response.status == 200, await response.text()
    if publish:
        response = await client.post(
            f"/api/v1/exams/{exam['id']}/publish", headers=headers(examiner)
        )
        assert response.status == 200, await response.text()
        exam = await response.json()
    return exam


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


async def start(client: Client, user: User, exam_id: int, expect: int = 201) -> dict[str, Any]:
    response = await client.post(f"/api/v1/my/exams/{exam_id}/attempts", headers=headers(user))
    assert response.status == expect, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def save(
    client: Client,
    user: User,
    attempt_id: str,
    item: int,
    response: dict[str, Any],
    seq: int,
    flagged: bool = False,
) -> tuple[int, dict[str, Any]]:
    answer = await client.put(
        f"/api/v1/attempts/{attempt_id}/answers/{item}",
        json={"seq": seq, "response": response, "flagged": flagged},
        headers=headers(user),
    )
    return answer.status, await answer.json()


async def view(client: Client, user: User, attempt_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/attempts/{attempt_id}", headers=headers(user))
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def submit(client: Client, user: User, attempt_id: str) -> dict[str, Any]:
    response = await client.post(f"/api/v1/attempts/{attempt_id}/submit", headers=headers(user))
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class FakeClock:
    """The exams plugin's clock, moved by hand (installed by the ``clock`` fixture)."""

    current: datetime = field(default_factory=lambda: datetime(2030, 1, 7, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current
