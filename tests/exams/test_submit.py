"""Submit is idempotent; overdue attempts are auto-submitted by the job and by the sweeper."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from core.services import Services
from plugins.exams import attempts, background
from plugins.exams.tables import Attempt
from storage.tables.user import User
from tests.exams.support import (
    RIGHT,
    Client,
    FakeClock,
    add_question,
    create_exam,
    fixed,
    parse_time,
    save,
    start,
    submit,
    view,
)


@pytest.fixture
async def exam(
    client: Client, services: Services, examiner: User, candidates: list[User]
) -> dict[str, Any]:
    question = await add_question(services, "true_false")
    return await create_exam(
        client, examiner, sections=[fixed(question)], candidates=candidates, grace_seconds=30
    )


async def status_of(services: Services, attempt_id: str) -> Attempt:
    async with services.db.session() as db:
        attempt = await db.get(Attempt, attempt_id)
    assert attempt is not None
    return attempt


async def test_submit_is_idempotent_and_grades(
    client: Client, services: Services, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = (await start(client, candidate, exam["id"]))["id"]
    assert (await save(client, candidate, attempt, 0, RIGHT["true_false"], seq=1))[0] == 200
    first = await submit(client, candidate, attempt)
    again = await submit(client, candidate, attempt)
    assert first["status"] == "graded"  # objective only: graded at submit
    assert first["submitted_at"] is not None
    assert again["submitted_at"] == first["submitted_at"]
    graded = await status_of(services, attempt)
    assert (graded.status, graded.score, graded.max_score) == ("graded", 1.0, 1.0)
    assert (await view(client, candidate, attempt))["status"] == "graded"


async def test_the_job_is_queued_at_start_and_auto_submits_when_due(
    fake_clock: FakeClock, client: Client, services: Services, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = await start(client, candidate, exam["id"])
    due = parse_time(attempt["deadline_at"]) + timedelta(seconds=30)
    job_id = f"exams.auto_submit:{attempt['id']}:{int(due.timestamp())}"
    assert await services.jobs.status(job_id) == "queued"
    assert (await save(client, candidate, attempt["id"], 0, RIGHT["true_false"], seq=1))[0] == 200

    ctx = {"services": services}
    fake_clock.advance(minutes=60)  # deadline reached, still inside the grace
    assert await attempts.auto_submit_job(ctx, attempt_id=attempt["id"]) == "rescheduled"
    assert (await status_of(services, attempt["id"])).status == "in_progress"

    fake_clock.advance(seconds=31)
    assert await attempts.auto_submit_job(ctx, attempt_id=attempt["id"]) == "auto_submitted"
    closed = await status_of(services, attempt["id"])
    assert (closed.status, closed.submitted_at, closed.score) == ("graded", fake_clock.current, 1.0)
    assert await attempts.auto_submit_job(ctx, attempt_id=attempt["id"]) == "closed"


async def test_the_sweeper_submits_only_overdue_attempts(
    fake_clock: FakeClock,
    client: Client,
    services: Services,
    examiner: User,
    candidates: list[User],
    exam: dict[str, Any],
) -> None:
    late = await start(client, candidates[0], exam["id"])
    fake_clock.advance(minutes=30)
    on_time = await start(client, candidates[1], exam["id"])
    fake_clock.advance(minutes=30, seconds=31)

    assert await background.sweep_once(services) == 1
    assert (await status_of(services, late["id"])).submitted_at == fake_clock.current
    assert (await status_of(services, late["id"])).status in ("auto_submitted", "graded")
    assert (await status_of(services, on_time["id"])).status == "in_progress"
    assert await background.sweep_once(services) == 0


async def test_starting_again_closes_an_overdue_attempt_first(
    fake_clock: FakeClock, client: Client, services: Services, examiner: User, candidate: User
) -> None:
    question = await add_question(services, "true_false")
    exam = await create_exam(
        client, examiner, sections=[fixed(question)], candidates=[candidate], attempts_allowed=2
    )
    first = await start(client, candidate, exam["id"])
    fake_clock.advance(hours=2)
    second = await start(client, candidate, exam["id"])
    assert second["number"] == 2
    assert (await status_of(services, first["id"])).status != "in_progress"


@pytest.mark.parametrize("exams_config", ["sweep_interval_seconds = 0.05"])
async def test_the_sweeper_runs_in_the_background(
    fake_clock: FakeClock, client: Client, services: Services, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = await start(client, candidate, exam["id"])
    fake_clock.advance(hours=2)
    for _ in range(400):  # waits for the loop, not for a duration: no timing is asserted
        if (await status_of(services, attempt["id"])).status != "in_progress":
            break
        await asyncio.sleep(0.025)
    assert (await status_of(services, attempt["id"])).status in ("auto_submitted", "graded")
