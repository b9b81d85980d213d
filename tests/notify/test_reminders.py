"""Reminders fire 24 h and 1 h before the window under a controlled clock, and a rescheduled
exam never sends a stale time."""

from __future__ import annotations

from datetime import timedelta

from core.services import Services
from plugins.notify import reminders
from storage.tables.user import User
from tests.exams.support import (
    Client,
    FakeClock,
    add_question,
    create_exam,
    fixed,
    headers,
    jsonable,
)
from tests.notify.support import messages, settled


async def test_reminders_fire_on_time_and_reschedule_drops_stale_ones(
    client: Client, services: Services, examiner: User, candidate: User, fake_clock: FakeClock
) -> None:
    opens = fake_clock.now() + timedelta(days=2)
    question = await add_question(services, "single_choice")
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        opens_at=opens,
        closes_at=opens + timedelta(hours=3),
    )
    scheduled = await settled(services, expect=2, event="exam.scheduled")
    assert {r.channel for r in scheduled} == {"email", "inapp"}
    assert all(r.user_id == candidate.id for r in scheduled)

    assert await reminders.sweep_due(services) == 0
    fake_clock.current = opens - timedelta(hours=24, minutes=1)
    assert await reminders.sweep_due(services) == 0
    fake_clock.advance(minutes=2)
    assert await reminders.sweep_due(services) == 1
    first = await settled(services, expect=2, event="exam.reminder")
    assert {r.channel for r in first} == {"email", "inapp"}  # no phone: no SMS
    assert all("opens in 24 hours" in r.subject for r in first)
    assert all(opens.strftime("%Y-%m-%d %H:%M") in r.body_text for r in first)
    assert await reminders.sweep_due(services) == 0  # fired once

    # The examiner moves the exam a day later: the 1-hour reminder of the old time must not go.
    later = opens + timedelta(days=1)
    response = await client.put(
        f"/api/v1/exams/{exam['id']}",
        json=jsonable({"opens_at": later, "closes_at": later + timedelta(hours=3)}),
        headers=headers(examiner),
    )
    assert response.status == 200, await response.text()
    fake_clock.current = opens - timedelta(minutes=59)
    assert await reminders.sweep_due(services) == 0
    assert len(await messages(services, event="exam.reminder")) == 2

    fake_clock.current = later - timedelta(hours=24)
    assert await reminders.sweep_due(services) == 1
    fake_clock.current = later - timedelta(minutes=60)
    assert await reminders.sweep_due(services) == 1
    sent = await settled(services, expect=6, event="exam.reminder")
    newest = [r for r in sent if "opens in 1 hour" in r.subject]
    assert len(newest) == 2
    assert all(later.strftime("%Y-%m-%d %H:%M") in r.body_text for r in newest)


async def test_no_reminder_for_a_removed_candidate_or_one_who_started(
    client: Client,
    services: Services,
    examiner: User,
    candidates: list[User],
    fake_clock: FakeClock,
) -> None:
    opens = fake_clock.now() + timedelta(hours=30)
    question = await add_question(services, "single_choice")
    exam = await create_exam(
        client, examiner, sections=[fixed(question)], candidates=candidates[:2], opens_at=opens
    )
    response = await client.put(
        f"/api/v1/exams/{exam['id']}/candidates",
        json={"candidates": [{"user_id": candidates[0].id}]},
        headers=headers(examiner),
    )
    assert response.status == 200
    fake_clock.current = opens - timedelta(hours=23)
    assert await reminders.sweep_due(services) == 1
    rows = await settled(services, expect=1, event="exam.reminder")
    assert {r.user_id for r in rows} == {candidates[0].id}


async def test_the_window_is_checked_again_when_a_reminder_fires(
    client: Client, services: Services, examiner: User, candidate: User, fake_clock: FakeClock
) -> None:
    """Even when no event announced the change (another process, a script), a reminder whose
    exam no longer opens at the planned time is dropped as stale."""
    from plugins.exams.tables import Exam  # noqa: PLC0415

    opens = fake_clock.now() + timedelta(hours=30)
    question = await add_question(services, "single_choice")
    exam = await create_exam(
        client, examiner, sections=[fixed(question)], candidates=[candidate], opens_at=opens
    )
    async with services.db.session() as db:
        row = await db.get(Exam, exam["id"])
        assert row is not None
        row.opens_at = opens + timedelta(hours=2)
        await db.commit()
    fake_clock.current = opens - timedelta(hours=23)
    assert await reminders.sweep_due(services) == 0
    assert await messages(services, event="exam.reminder") == []
