"""Reminders before an exam opens: planned in a table, fired by the sweeper under one clock.

When an exam is published or rescheduled (``exam.scheduled``) each candidate gets one
``notify_scheduled`` row per offset (24 h and 1 h by default), remembering the window it was
planned for. The sweeper (and a delayed job queued alongside, which only makes it timelier)
fires due rows after checking again that the exam still exists, is published, still opens at
that time, the person is still a candidate and has not started. A rescheduled exam therefore
never sends a stale time: the old rows no longer match and are marked ``stale``. The table,
not the job queue, is the record, so a restart or a lost Redis job costs nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import col

from core.services import Services
from plugins.exams.tables import Attempt, Exam, ExamCandidate
from plugins.notify import clock, dispatch, facts
from plugins.notify.tables import NotifyScheduled
from storage.tables.user import User

log = logging.getLogger("invigilator.notify")

REMINDER_JOB = "notify.reminder"


def describe(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "24 hours" if days == 1 else f"{days} days"
    if minutes % 60 == 0:
        return f"{minutes // 60} hour{'s' if minutes != 60 else ''}"
    return f"{minutes} minutes"


async def plan_exam(services: Services, exam_id: int) -> int:
    """(Re)plan the reminders of one exam; returns how many new rows were written."""
    offsets = sorted(set(dispatch.config(services).reminders.offsets_minutes), reverse=True)
    at = clock.now()
    async with services.db.session() as db:
        exam = await db.get(Exam, exam_id)
        users = await facts.candidates_of(db, exam_id) if exam is not None else []
        valid = exam is not None and exam.status == "published" and exam.opens_at is not None
        stale = update(NotifyScheduled).where(
            col(NotifyScheduled.exam_id) == exam_id, col(NotifyScheduled.status) == "pending"
        )
        if valid:
            assert exam is not None
            assert exam.opens_at is not None
            stale = stale.where(
                (col(NotifyScheduled.opens_at) != exam.opens_at)
                | col(NotifyScheduled.user_id).not_in(users)
            )
        await db.execute(stale.values(status="stale"))
        rows: list[NotifyScheduled] = []
        if valid:
            assert exam is not None
            assert exam.opens_at is not None
            have = set(
                (
                    await db.execute(
                        select(
                            col(NotifyScheduled.user_id), col(NotifyScheduled.offset_minutes)
                        ).where(
                            col(NotifyScheduled.exam_id) == exam_id,
                            col(NotifyScheduled.opens_at) == exam.opens_at,
                        )
                    )
                ).all()
            )
            for user_id in users:
                for offset in offsets:
                    fire_at = exam.opens_at - timedelta(minutes=offset)
                    if fire_at > at and (user_id, offset) not in have:
                        rows.append(
                            NotifyScheduled(
                                exam_id=exam_id,
                                user_id=user_id,
                                offset_minutes=offset,
                                opens_at=exam.opens_at,
                                fire_at=fire_at,
                            )
                        )
        db.add_all(rows)
        await db.commit()
        planned = [(r.id, r.fire_at) for r in rows if r.id is not None]
    for row_id, fire_at in planned:
        try:
            await services.jobs.enqueue(
                REMINDER_JOB,
                job_id=f"{REMINDER_JOB}:{row_id}",
                delay=max(fire_at - at, timedelta(0)),
                reminder_id=row_id,
            )
        except Exception:
            log.exception("notify: could not queue reminder %s; the sweeper will", row_id)
    return len(planned)


async def fire(services: Services, reminder_id: int) -> str:
    """Send one due reminder if it still holds; returns what became of it."""
    at = clock.now()
    async with services.db.session() as db:
        row = await db.get(NotifyScheduled, reminder_id)
        if row is None or row.status != "pending":
            return "gone"
        if row.fire_at > at:
            return "not_due"
        exam = await db.get(Exam, row.exam_id)
        seat = (
            (
                await db.execute(
                    select(ExamCandidate).where(
                        col(ExamCandidate.exam_id) == row.exam_id,
                        col(ExamCandidate.user_id) == row.user_id,
                    )
                )
            )
            .scalars()
            .first()
        )
        started = (
            await db.execute(
                select(func.count())
                .select_from(Attempt)
                .where(col(Attempt.exam_id) == row.exam_id, col(Attempt.user_id) == row.user_id)
            )
        ).scalar_one()
        user = await db.get(User, row.user_id)
        holds = (
            exam is not None
            and exam.status == "published"
            and exam.opens_at == row.opens_at
            and at < row.opens_at
            and seat is not None
            and not started
            and user is not None
            and user.is_active
        )
        claimed = await db.execute(
            update(NotifyScheduled)
            .where(col(NotifyScheduled.id) == reminder_id, col(NotifyScheduled.status) == "pending")
            .values(status="sent" if holds else "stale")
        )
        await db.commit()
    if claimed.rowcount != 1 or not holds:  # type: ignore[attr-defined]
        return "stale"
    assert exam is not None
    assert user is not None
    view = facts.Facts(exam=exam).exam_view()
    await dispatch.queue_for_users(
        services,
        "exam.reminder",
        {"exam_id": row.exam_id, "user_id": row.user_id, "offset_minutes": row.offset_minutes},
        [user],
        {"exam": view, "when": describe(row.offset_minutes)},
    )
    return "sent"


async def reminder_job(ctx: dict[str, Any], *, reminder_id: int) -> str:
    """Job ``notify.reminder``: fire one reminder when its time has come."""
    return await fire(ctx["services"], reminder_id)


async def sweep_due(services: Services, *, limit: int = 500) -> int:
    """Fire every pending reminder whose time has come; returns how many were sent."""
    async with services.db.session() as db:
        rows = await db.execute(
            select(col(NotifyScheduled.id))
            .where(
                col(NotifyScheduled.status) == "pending",
                col(NotifyScheduled.fire_at) <= clock.now(),
            )
            .order_by(col(NotifyScheduled.fire_at))
            .limit(limit)
        )
        due = [int(i) for i in rows.scalars() if i is not None]
    return sum([await fire(services, reminder_id) == "sent" for reminder_id in due])
