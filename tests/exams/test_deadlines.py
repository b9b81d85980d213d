"""Deadlines: extra time, the close cap, window checks, attempts allowed, time credit, outages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.services import Services
from core.settings import Settings
from plugins.exams import clock
from plugins.exams.clock import ExamHeartbeat, detect_outage, initial_deadline
from plugins.exams.tables import Attempt
from storage.tables.user import User
from tests.exams.conftest import header_authenticate
from tests.exams.support import (
    Client,
    FakeClock,
    add_question,
    add_users,
    create_exam,
    fixed,
    headers,
    parse_time,
    start,
    submit,
)
from webapp.app import create_app
from webapp.keys import AUTHENTICATE, SERVICES

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def test_deadline_is_duration_plus_extra_time_capped_at_close() -> None:
    assert initial_deadline(T0, 60, 0, None) == T0 + timedelta(minutes=60)
    assert initial_deadline(T0, 60, 15, None) == T0 + timedelta(minutes=75)
    close = T0 + timedelta(minutes=70)
    assert initial_deadline(T0, 60, 15, close) == close
    assert initial_deadline(T0, 60, 0, close) == T0 + timedelta(minutes=60)


@pytest.fixture
async def question(services: Services) -> int:
    return await add_question(services, "true_false")


async def test_extra_time_and_close_cap_through_the_api(
    fake_clock: FakeClock, client: Client, examiner: User, candidates: list[User], question: int
) -> None:
    slow, normal, _ = candidates
    closes = fake_clock.current + timedelta(minutes=80)
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[{"user_id": slow.id, "extra_time_minutes": 30}, {"user_id": normal.id}],
        closes_at=closes,
    )
    extra = await start(client, slow, exam["id"])
    assert parse_time(extra["deadline_at"]) == closes  # 90 minutes, capped at the close
    plain = await start(client, normal, exam["id"])
    assert parse_time(plain["deadline_at"]) == fake_clock.current + timedelta(minutes=60)
    assert parse_time(plain["server_now"]) == fake_clock.current


async def test_window_resume_and_attempts_allowed(
    fake_clock: FakeClock, client: Client, examiner: User, candidate: User, question: int
) -> None:
    opens = fake_clock.current + timedelta(hours=1)
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        opens_at=opens,
        closes_at=opens + timedelta(hours=3),
        attempts_allowed=2,
    )
    url = f"/api/v1/my/exams/{exam['id']}/attempts"
    early = await client.post(url, headers=headers(candidate))
    assert (early.status, (await early.json())["error"]["code"]) == (409, "exam_not_open")

    fake_clock.advance(hours=1)
    first = await start(client, candidate, exam["id"])
    again = await start(client, candidate, exam["id"], expect=200)  # a reload resumes
    assert again["id"] == first["id"]
    assert again["deadline_at"] == first["deadline_at"]
    await submit(client, candidate, first["id"])
    second = await start(client, candidate, exam["id"])
    assert (second["number"], second["id"] != first["id"]) == (2, True)
    await submit(client, candidate, second["id"])
    used_up = await client.post(url, headers=headers(candidate))
    assert (used_up.status, (await used_up.json())["error"]["code"]) == (409, "no_attempts_left")

    fake_clock.advance(hours=3)
    mine = await (await client.get("/api/v1/my/exams", headers=headers(candidate))).json()
    assert (mine[0]["state"], mine[0]["attempts_left"]) == ("closed", 0)


async def test_a_closed_exam_refuses_to_start(
    fake_clock: FakeClock, client: Client, examiner: User, candidate: User, question: int
) -> None:
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        closes_at=fake_clock.current + timedelta(minutes=5),
    )
    fake_clock.advance(minutes=5)
    late = await client.post(f"/api/v1/my/exams/{exam['id']}/attempts", headers=headers(candidate))
    assert (late.status, (await late.json())["error"]["code"]) == (409, "exam_closed")


async def test_time_credit_moves_only_in_progress_attempts(
    fake_clock: FakeClock,
    client: Client,
    services: Services,
    examiner: User,
    candidates: list[User],
    question: int,
) -> None:
    exam = await create_exam(client, examiner, sections=[fixed(question)], candidates=candidates)
    started = [await start(client, c, exam["id"]) for c in candidates]
    await submit(client, candidates[2], started[2]["id"])
    url = f"/api/v1/exams/{exam['id']}/time-credit"

    everyone = await client.post(
        url, json={"minutes": 10, "reason": "fire alarm"}, headers=headers(examiner)
    )
    assert everyone.status == 200, await everyone.text()
    credited = {
        c["attempt_id"]: parse_time(c["deadline_at"]) for c in (await everyone.json())["credited"]
    }
    deadline = fake_clock.current + timedelta(minutes=70)
    assert credited == {started[0]["id"]: deadline, started[1]["id"]: deadline}

    one = await client.post(
        url, json={"minutes": 5, "attempt_ids": [started[1]["id"]]}, headers=headers(examiner)
    )
    assert [c["attempt_id"] for c in (await one.json())["credited"]] == [started[1]["id"]]
    async with services.db.session() as db:
        rows = {a.id: a for a in [await db.get(Attempt, s["id"]) for s in started] if a}
    assert rows[started[1]["id"]].time_credit_seconds == 15 * 60
    assert rows[started[1]["id"]].deadline_at == deadline + timedelta(minutes=5)
    assert rows[started[2]["id"]].time_credit_seconds == 0
    events = await services.events.query(attempt_id=started[1]["id"], kinds=["exams.time_credited"])
    assert [e.data["seconds"] for e in events] == [600, 300]
    assert events[0].data["reason"] == "fire alarm"

    refused = await client.post(url, json={"minutes": 0}, headers=headers(examiner))
    assert refused.status == 422
    forbidden = await client.post(url, json={"minutes": 5}, headers=headers(candidates[0]))
    assert forbidden.status == 403


async def _heartbeat(services: Services, at: datetime) -> None:
    async with services.db.session() as db:
        row = await db.get(ExamHeartbeat, clock.HEARTBEAT_ROW)
        assert row is not None
        row.beat_at = at
        await db.commit()


async def _attempt(services: Services, attempt_id: str) -> Attempt:
    async with services.db.session() as db:
        attempt = await db.get(Attempt, attempt_id)
    assert attempt is not None
    return attempt


async def test_an_outage_is_credited_once_to_attempts_open_at_the_time(
    fake_clock: FakeClock,
    client: Client,
    services: Services,
    examiner: User,
    candidates: list[User],
    question: int,
) -> None:
    exam = await create_exam(client, examiner, sections=[fixed(question)], candidates=candidates)
    open_one = await start(client, candidates[0], exam["id"])
    done = await start(client, candidates[1], exam["id"])
    await submit(client, candidates[1], done["id"])
    await _heartbeat(services, fake_clock.current)
    fake_clock.advance(minutes=10)

    async with services.db.session() as db:
        short = await detect_outage(db, fake_clock.current, threshold_seconds=900, credit=True)
    assert short is None
    async with services.db.session() as db:
        outage = await detect_outage(db, fake_clock.current, threshold_seconds=120, credit=True)
    assert outage is not None
    assert outage.seconds == 600
    assert [c.attempt_id for c in outage.credited] == [open_one["id"]]
    async with services.db.session() as db:  # the gap is claimed: no second credit
        assert (
            await detect_outage(db, fake_clock.current, threshold_seconds=120, credit=True) is None
        )

    moved = await _attempt(services, open_one["id"])
    assert moved.deadline_at == parse_time(open_one["deadline_at"]) + timedelta(minutes=10)
    assert moved.time_credit_seconds == 600
    assert (await _attempt(services, done["id"])).time_credit_seconds == 0


async def test_a_restart_after_an_outage_credits_the_lost_time(
    fake_clock: FakeClock, settings: Settings
) -> None:
    """Two server lives on one data folder; between them the service was down 10 minutes."""
    async with TestClient(TestServer(_app(settings))) as first:
        services = first.app[SERVICES]
        examiner = (await add_users(services, "examiner", 1))[0]
        candidate = (await add_users(services, "candidate", 1))[0]
        question = await add_question(services, "true_false")
        exam = await create_exam(
            first, examiner, sections=[fixed(question)], candidates=[candidate]
        )
        attempt = await start(first, candidate, exam["id"])
    fake_clock.advance(minutes=10)
    async with TestClient(TestServer(_app(settings))) as second:
        moved = await _attempt(second.app[SERVICES], attempt["id"])
        url = f"/api/v1/attempts/{attempt['id']}"
        shown = await (await second.get(url, headers=headers(candidate))).json()
    assert moved.deadline_at == parse_time(attempt["deadline_at"]) + timedelta(minutes=10)
    assert parse_time(shown["deadline_at"]) == moved.deadline_at


def _app(settings: Settings) -> Any:
    app = create_app(settings)
    app[AUTHENTICATE] = header_authenticate
    return app
