"""Autosave: only a newer seq is stored, replays are harmless, late and invalid saves refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from core.services import Services
from plugins.exams.tables import Answer
from storage.tables.user import User
from tests.exams.support import (
    BLANK,
    RIGHT,
    Client,
    FakeClock,
    add_question,
    create_exam,
    fixed,
    headers,
    save,
    start,
    submit,
    view,
)

KINDS = ("single_choice", "short_answer", "numeric", "coding")


@pytest.fixture
def exams_config() -> str:
    return "max_answer_bytes = 2048"


@pytest.fixture
async def exam(
    client: Client, services: Services, examiner: User, candidates: list[User]
) -> dict[str, Any]:
    ids = [await add_question(services, kind) for kind in KINDS]
    return await create_exam(
        client, examiner, sections=[fixed(*ids)], candidates=candidates, grace_seconds=30
    )


async def stored(services: Services, attempt_id: str) -> dict[int, Answer]:
    async with services.db.session() as db:
        rows = await db.execute(select(Answer).where(col(Answer.attempt_id) == attempt_id))
        return {a.item: a for a in rows.scalars()}


async def test_only_a_newer_seq_is_stored(
    client: Client, services: Services, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = (await start(client, candidate, exam["id"]))["id"]
    status, ack = await save(client, candidate, attempt, 1, {"text": "first"}, seq=1)
    assert status == 200
    assert (ack["item"], ack["seq"]) == (1, 1)

    status, error = await save(client, candidate, attempt, 1, {"text": "first"}, seq=1)
    assert status == 409
    assert error["error"]["code"] == "stale_answer"
    assert error["error"]["details"] == {"seq": 1}

    assert (await save(client, candidate, attempt, 1, {"text": "third"}, seq=3))[0] == 200
    status, error = await save(client, candidate, attempt, 1, {"text": "second, late"}, seq=2)
    assert status == 409
    assert error["error"]["details"] == {"seq": 3}

    answer = (await stored(services, attempt))[1]
    assert (answer.seq, answer.response) == (3, {"text": "third"})
    shown = (await view(client, candidate, attempt))["items"][1]["answer"]
    assert (shown["seq"], shown["response"]) == (3, {"text": "third"})


async def test_flag_and_blank_answers_are_saved(
    client: Client, services: Services, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = (await start(client, candidate, exam["id"]))["id"]
    assert (await save(client, candidate, attempt, 0, BLANK["single_choice"], seq=1, flagged=True))[
        0
    ] == 200
    answer = (await stored(services, attempt))[0]
    assert answer.flagged is True
    assert answer.response == {"selected": []}


async def test_parallel_first_saves_of_one_item_keep_the_highest_seq(
    client: Client, services: Services, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = (await start(client, candidate, exam["id"]))["id"]
    results = await asyncio.gather(
        *(save(client, candidate, attempt, 2, {"value": seq}, seq=seq) for seq in range(1, 21))
    )
    assert {status for status, _ in results} <= {200, 409}
    assert results[19][0] == 200  # nothing is newer than seq 20
    answer = (await stored(services, attempt))[2]
    assert (answer.seq, answer.response) == (20, {"value": 20.0})


async def test_saves_close_at_deadline_plus_grace(
    fake_clock: FakeClock, client: Client, services: Services, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = await start(client, candidate, exam["id"])
    fake_clock.advance(minutes=60, seconds=29)  # the deadline is 60 minutes, grace 30 s
    assert (await save(client, candidate, attempt["id"], 0, RIGHT["single_choice"], seq=1))[
        0
    ] == 200
    fake_clock.advance(seconds=2)
    status, error = await save(client, candidate, attempt["id"], 0, {"selected": ["c"]}, seq=2)
    assert status == 409
    assert error["error"]["code"] == "attempt_closed"
    assert (await stored(services, attempt["id"]))[0].response == RIGHT["single_choice"]


async def test_a_submitted_attempt_takes_no_saves(
    client: Client, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = (await start(client, candidate, exam["id"]))["id"]
    await submit(client, candidate, attempt)
    status, error = await save(client, candidate, attempt, 0, RIGHT["single_choice"], seq=1)
    assert (status, error["error"]["code"]) == (409, "attempt_closed")


@pytest.mark.parametrize(
    ("item", "body", "status", "code"),
    [
        (0, {"seq": 1, "response": {"selected": "b"}}, 422, "validation_error"),
        (0, {"seq": 1, "response": {"selected": ["z"]}}, 422, "invalid_answer"),
        (0, {"seq": 1, "response": {"selected": ["a", "b"]}}, 422, "invalid_answer"),
        (0, {"seq": 1, "response": {"selected": ["b"], "extra": 1}}, 422, "validation_error"),
        (0, {"seq": 0, "response": {"selected": ["b"]}}, 422, "validation_error"),
        (0, {"response": {"selected": ["b"]}}, 422, "validation_error"),
        (2, {"seq": 1, "response": {"value": "three"}}, 422, "validation_error"),
        (3, {"seq": 1, "response": {"language": "cobol", "code": "x"}}, 422, "invalid_answer"),
        (
            3,
            {"seq": 1, "response": {"language": "python", "code": "x" * 3000}},
            413,
            "answer_too_large",
        ),
        (9, {"seq": 1, "response": {}}, 404, "not_found"),
    ],
)
async def test_invalid_saves_are_refused_and_store_nothing(
    client: Client,
    services: Services,
    candidate: User,
    exam: dict[str, Any],
    item: int,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    attempt = (await start(client, candidate, exam["id"]))["id"]
    response = await client.put(
        f"/api/v1/attempts/{attempt}/answers/{item}", json=body, headers=headers(candidate)
    )
    assert response.status == status, await response.text()
    assert (await response.json())["error"]["code"] == code
    assert await stored(services, attempt) == {}


async def test_sequential_navigation_needs_earlier_items_answered_or_skipped(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    ids = [await add_question(services, "true_false") for _ in range(4)]
    exam = await create_exam(
        client, examiner, sections=[fixed(*ids)], candidates=[candidate], navigation="sequential"
    )
    attempt = (await start(client, candidate, exam["id"]))["id"]
    shown = (await view(client, candidate, attempt))["items"]
    assert [i["locked"] for i in shown] == [False, True, True, True]
    assert shown[1]["question"] is None

    status, error = await save(client, candidate, attempt, 2, {"value": True}, seq=1)
    assert (status, error["error"]["code"]) == (409, "sequence_required")
    assert error["error"]["details"] == {"first_unanswered": 0}

    assert (await save(client, candidate, attempt, 0, {"value": None}, seq=1))[0] == 200  # skip
    assert (await save(client, candidate, attempt, 1, {"value": True}, seq=1))[0] == 200
    assert (await save(client, candidate, attempt, 2, {"value": False}, seq=1))[0] == 200
    assert (await save(client, candidate, attempt, 0, {"value": True}, seq=2))[0] == 200  # go back
    shown = (await view(client, candidate, attempt))["items"]
    assert [i["locked"] for i in shown] == [False, False, False, False]
    assert shown[3]["question"] is not None
