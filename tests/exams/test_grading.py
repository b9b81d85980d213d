"""Grading: every type through the bank's grader, negative marking, the judge hook, the manual
queue with rubrics, totals and pass/fail."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from core.services import Services
from plugins.exams.tables import Answer, Attempt
from storage.tables.user import User
from tests.exams import judge_plugin
from tests.exams.conftest import JUDGE
from tests.exams.support import (
    BLANK,
    RIGHT,
    WRONG,
    Client,
    add_question,
    create_exam,
    headers,
    save,
    start,
    submit,
)

POINTS = {
    "single_choice": 2,
    "multiple_choice": 2,
    "true_false": 1,
    "numeric": 1,
    "short_answer": 1,
    "essay": 4,
    "coding": 3,
}


@pytest.fixture
def extra_plugins() -> tuple[str, ...]:
    return (JUDGE,)


@pytest.fixture
async def exam(
    client: Client, services: Services, examiner: User, candidates: list[User]
) -> dict[str, Any]:
    rules = [
        {"question_id": await add_question(services, kind), "points": p}
        for kind, p in POINTS.items()
    ]
    return await create_exam(
        client,
        examiner,
        sections=[rules],
        candidates=candidates,
        negative_marking=0.5,
        pass_mark=60,
        release_policy="immediately",
    )


async def answer_all(
    client: Client, user: User, exam: dict[str, Any], responses: dict[str, Any]
) -> str:
    attempt: str = (await start(client, user, exam["id"]))["id"]
    for item, kind in enumerate(POINTS):
        if kind in responses:
            assert (await save(client, user, attempt, item, responses[kind], seq=1))[0] == 200
    await submit(client, user, attempt)
    return attempt


async def scores(services: Services, attempt_id: str) -> dict[str, float | None]:
    async with services.db.session() as db:
        rows = await db.execute(select(Answer).where(col(Answer.attempt_id) == attempt_id))
        by_item = {a.item: a.score for a in rows.scalars()}
    return {kind: by_item.get(item) for item, kind in enumerate(POINTS)}


async def attempt_row(services: Services, attempt_id: str) -> Attempt:
    async with services.db.session() as db:
        attempt = await db.get(Attempt, attempt_id)
    assert attempt is not None
    return attempt


async def graded_by_job(services: Services, attempt_id: str) -> None:
    await services.jobs.result(f"exams.grade_attempt:{attempt_id}", timeout=60)


async def test_right_answers_then_the_judge_then_a_person(
    client: Client, services: Services, examiner: User, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = await answer_all(client, candidate, exam, RIGHT)
    await graded_by_job(services, attempt)
    marks = await scores(services, attempt)
    assert marks == {**POINTS, "essay": None}
    assert judge_plugin.calls[-1]["payload"]["hidden"]  # the judge gets the hidden tests
    row = await attempt_row(services, attempt)
    assert (row.status, row.score, row.max_score) == ("submitted", None, 14)

    queue = await (await client.get("/api/v1/grading/queue", headers=headers(examiner))).json()
    assert queue["total"] == 1
    entry = queue["items"][0]
    assert (entry["attempt_id"], entry["item"], entry["type"]) == (attempt, 5, "essay")
    assert entry["response"] == RIGHT["essay"]
    assert [c["criterion"] for c in entry["rubric"]] == ["Content", "Style"]

    marked = await client.put(
        f"/api/v1/grading/{attempt}/5",
        json={"rubric_scores": {"Content": 2, "Style": 1}, "feedback": "Good."},
        headers=headers(examiner),
    )
    assert marked.status == 200, await marked.text()
    body = await marked.json()
    assert (body["attempt_status"], body["attempt_score"]) == ("graded", 13.0)  # 10 + 3/4 of 4
    result = await (
        await client.get(f"/api/v1/attempts/{attempt}/result", headers=headers(candidate))
    ).json()
    assert (result["score"], result["percent"], result["passed"]) == (13.0, 92.86, True)
    essay = result["items"][5]
    assert (essay["score"], essay["feedback"], essay["rubric_scores"]) == (
        3.0,
        "Good.",
        {"Content": 2.0, "Style": 1.0},
    )
    empty = await (await client.get("/api/v1/grading/queue", headers=headers(examiner))).json()
    assert empty["total"] == 0


async def test_negative_marking_on_wrong_answers_blank_is_free(
    client: Client, services: Services, candidates: list[User], exam: dict[str, Any]
) -> None:
    wrong = await answer_all(client, candidates[0], exam, {**WRONG, "essay": BLANK["essay"]})
    assert await scores(services, wrong) == {
        "single_choice": -1.0,
        "multiple_choice": -1.0,
        "true_false": -0.5,
        "numeric": -0.5,
        "short_answer": -0.5,
        "essay": 0.0,
        "coding": 0.0,
    }
    row = await attempt_row(services, wrong)
    assert (row.status, row.score) == ("graded", 0.0)  # the total never goes below zero

    blank = await answer_all(client, candidates[1], exam, BLANK)
    assert set((await scores(services, blank)).values()) == {0.0}


async def test_partial_multiple_choice(
    client: Client, services: Services, candidates: list[User], exam: dict[str, Any]
) -> None:
    half = await answer_all(client, candidates[0], exam, {"multiple_choice": {"selected": ["a"]}})
    cancelled = await answer_all(
        client, candidates[1], exam, {"multiple_choice": {"selected": ["a", "c"]}}
    )
    assert (await scores(services, half))["multiple_choice"] == 1.0
    assert (await scores(services, cancelled))[
        "multiple_choice"
    ] == -1.0  # fully wrong: marked down


async def test_a_program_the_judge_declines_waits_for_a_person(
    client: Client, services: Services, examiner: User, candidate: User, exam: dict[str, Any]
) -> None:
    code = {"language": "python", "code": "print(1)  # ask a person"}
    attempt = await answer_all(client, candidate, exam, {**RIGHT, "coding": code})
    await graded_by_job(services, attempt)
    assert (await scores(services, attempt))["coding"] is None
    queue = await (await client.get("/api/v1/grading/queue", headers=headers(examiner))).json()
    assert sorted(i["type"] for i in queue["items"]) == ["coding", "essay"]


@pytest.mark.parametrize("extra_plugins", [()])
async def test_without_a_judge_programs_wait_for_a_person(
    client: Client, services: Services, examiner: User, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = await answer_all(client, candidate, exam, RIGHT)
    await graded_by_job(services, attempt)
    assert (await scores(services, attempt))["coding"] is None
    for item, score in ((5, 4.0), (6, 1.5)):
        marked = await client.put(
            f"/api/v1/grading/{attempt}/{item}", json={"score": score}, headers=headers(examiner)
        )
        assert marked.status == 200, await marked.text()
    row = await attempt_row(services, attempt)
    assert (row.status, row.score) == ("graded", 12.5)


@pytest.mark.parametrize(
    ("item", "body", "status"),
    [
        (5, {"rubric_scores": {"Content": 2}}, 422),
        (5, {"rubric_scores": {"Content": 2, "Style": 1, "Spelling": 1}}, 422),
        (5, {"rubric_scores": {"Content": 4, "Style": 1}}, 422),
        (5, {"score": 4.5}, 422),
        (5, {"score": -1}, 422),
        (5, {"feedback": "no score"}, 422),
        (0, {"rubric_scores": {"Content": 1}}, 422),
        (7, {"score": 1}, 404),
    ],
)
async def test_bad_marks_are_refused(
    client: Client,
    services: Services,
    examiner: User,
    candidate: User,
    exam: dict[str, Any],
    item: int,
    body: dict[str, Any],
    status: int,
) -> None:
    attempt = await answer_all(client, candidate, exam, RIGHT)
    response = await client.put(
        f"/api/v1/grading/{attempt}/{item}", json=body, headers=headers(examiner)
    )
    assert response.status == status, await response.text()
    assert (await scores(services, attempt))["essay"] is None


async def test_an_attempt_in_progress_cannot_be_marked(
    client: Client, examiner: User, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = (await start(client, candidate, exam["id"]))["id"]
    response = await client.put(
        f"/api/v1/grading/{attempt}/5", json={"score": 1}, headers=headers(examiner)
    )
    assert (response.status, (await response.json())["error"]["code"]) == (
        409,
        "attempt_in_progress",
    )
    forbidden = await client.put(
        f"/api/v1/grading/{attempt}/5", json={"score": 1}, headers=headers(candidate)
    )
    assert forbidden.status == 403
