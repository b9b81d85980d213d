"""Attempts: start or resume, submit and auto-submit (autosave is in :mod:`autosave`).

Starting fixes the attempt's seed, paper and deadline in one row. Closing an attempt (submit,
the job, the sweeper, a new start finding it overdue, a proctor ending it) is one conditional
update from ``in_progress``, so however many of them race, grading runs once per close and a
late one is a no-op. The close records who ended the attempt (``ended_by``).

A proctor's pause (:mod:`plugins.exams.control`) holds the attempt: the candidate cannot submit,
and the job and the sweeper leave it alone until the exam's close passes (see
:func:`plugins.exams.clock.pause_limit`).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core import domain_events
from core.services import Services
from plugins.exams import bank, clock, gate, grading, store
from plugins.exams.errors import (
    PAUSED_MESSAGE,
    AttemptPaused,
    ExamClosed,
    ExamNotOpen,
    NoAttemptsLeft,
    PaperUnavailable,
)
from plugins.exams.papers import PaperError, build_paper, new_seed
from plugins.exams.tables import Attempt, Exam

log = logging.getLogger(__name__)

AUTO_SUBMIT_JOB = "exams.auto_submit"
EndedBy = Literal["candidate", "timer", "proctor"]


async def start_or_resume(services: Services, exam_id: int, user_id: int) -> tuple[Attempt, bool]:
    """The candidate's in-progress attempt, or a new one; ``True`` when it was just created."""
    at = clock.now()
    async with services.db.session() as db:
        exam, seat = await store.candidate_exam(db, exam_id, user_id)
        current = await _in_progress(db, exam_id, user_id)
    if current is not None:
        if not clock.attempt_due(current, exam, at):
            return current, False  # a paused attempt is resumed too: its page shows the pause
        await close_attempt(services, current.id, "auto_submitted", at, ended_by="timer")
    if exam.opens_at is not None and at < exam.opens_at:
        raise ExamNotOpen(
            f"the exam opens at {exam.opens_at.isoformat()}",
            details={"opens_at": exam.opens_at.isoformat()},
        )
    if exam.closes_at is not None and at >= exam.closes_at:
        raise ExamClosed("the exam has closed", details={"closes_at": exam.closes_at.isoformat()})
    async with services.db.session() as db:
        used = (
            await db.execute(
                select(func.count())
                .select_from(Attempt)
                .where(col(Attempt.exam_id) == exam_id, col(Attempt.user_id) == user_id)
            )
        ).scalar_one()
    if used >= exam.attempts_allowed:
        raise NoAttemptsLeft(
            f"all {exam.attempts_allowed} attempts have been used",
            details={"attempts_allowed": exam.attempts_allowed},
        )
    refused = await gate.refusal(services, exam_id, user_id, exam.proctoring_policy)
    if refused is not None:
        raise refused
    async with services.db.session() as db:
        sections = store.section_rules(await store.get_sections(db, exam_id))
        seed = new_seed()
        try:
            paper = build_paper(
                sections,
                await bank.snapshot(db, sections),
                seed,
                shuffle_questions=exam.shuffle_questions,
                shuffle_options=exam.shuffle_options,
            )
        except PaperError as error:
            raise PaperUnavailable(f"no paper can be drawn: {error}") from None
        attempt = Attempt(
            id=secrets.token_hex(16),
            exam_id=exam_id,
            user_id=user_id,
            number=used + 1,
            seed=seed,
            started_at=at,
            deadline_at=clock.initial_deadline(
                at, exam.duration_minutes, seat.extra_time_minutes, exam.closes_at
            ),
            paper=[item.to_json() for item in paper],
        )
        db.add(attempt)
        try:
            await db.commit()
        except IntegrityError:  # a second tab started the same attempt number first
            await db.rollback()
            other = await _in_progress(db, exam_id, user_id)
            if other is None:
                raise NoAttemptsLeft("all attempts have been used") from None
            return other, False
    await schedule_auto_submit(services, attempt, exam.grace_seconds)
    data = {"attempt_id": attempt.id, "exam_id": exam_id, "user_id": user_id}
    await domain_events.emit(services, "attempt.started", data)
    return attempt, True


async def _in_progress(db: AsyncSession, exam_id: int, user_id: int) -> Attempt | None:
    rows = await db.execute(
        select(Attempt)
        .where(
            col(Attempt.exam_id) == exam_id,
            col(Attempt.user_id) == user_id,
            col(Attempt.status) == "in_progress",
        )
        .order_by(col(Attempt.number).desc())
    )
    return rows.scalars().first()


async def schedule_auto_submit(
    services: Services, attempt: Attempt, grace_seconds: int, *, due: datetime | None = None
) -> None:
    """Queue ``exams.auto_submit`` for deadline + grace (or ``due``). Best effort: the sweeper is
    the guarantee, so a broker outage must not fail the start of an attempt."""
    due = due or clock.saves_until(attempt.deadline_at, grace_seconds)
    delay = max(due - clock.now(), timedelta(0)) + timedelta(seconds=1)
    try:
        await services.jobs.enqueue(
            AUTO_SUBMIT_JOB,
            job_id=f"{AUTO_SUBMIT_JOB}:{attempt.id}:{int(due.timestamp())}",
            delay=delay,
            attempt_id=attempt.id,
        )
    except Exception:
        log.exception("exams: could not queue auto-submit of %s; the sweeper will", attempt.id)


async def submit(services: Services, attempt_id: str, user_id: int) -> Attempt:
    """Submit (idempotent: a closed attempt is returned as it is); refused while paused.

    A submit that arrives once the deadline has passed is the page's own timer (it submits at
    zero), so it is recorded as ended by the timer; before the deadline, by the candidate.
    """
    at = clock.now()
    async with services.db.session() as db:
        attempt, exam = await store.own_attempt_and_exam(db, attempt_id, user_id)
    if attempt.status == "in_progress":
        if attempt.paused_at is not None and not clock.attempt_due(attempt, exam, at):
            raise AttemptPaused(
                PAUSED_MESSAGE, details={"paused_at": attempt.paused_at.isoformat()}
            )
        late = clock.attempt_due(attempt, exam, at)
        closed = await close_attempt(
            services,
            attempt_id,
            "auto_submitted" if late else "submitted",
            at,
            ended_by="timer" if late or at >= attempt.deadline_at else "candidate",
            unless_paused=not late,
        )
        if not closed:
            async with services.db.session() as db:
                again = await store.get_attempt(db, attempt_id)
            if again.status == "in_progress" and again.paused_at is not None:
                raise AttemptPaused(
                    PAUSED_MESSAGE, details={"paused_at": again.paused_at.isoformat()}
                )
    async with services.db.session() as db:
        return await store.get_attempt(db, attempt_id)


async def close_attempt(
    services: Services,
    attempt_id: str,
    status: str,
    at: datetime,
    *,
    ended_by: EndedBy,
    reason: str | None = None,
    unless_paused: bool = False,
) -> bool:
    """Move an in-progress attempt to ``status`` and grade it; ``False`` if already closed (or,
    with ``unless_paused``, paused in the meantime: a candidate's submit never ends a pause)."""
    conditions = [col(Attempt.id) == attempt_id, col(Attempt.status) == "in_progress"]
    if unless_paused:
        conditions.append(col(Attempt.paused_at).is_(None))
    async with services.db.session() as db:
        result = await db.execute(
            update(Attempt)
            .where(*conditions)
            .values(
                status=status, submitted_at=at, ended_by=ended_by, end_reason=reason, paused_at=None
            )
        )
        await db.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await grading.after_submit(services, attempt_id)
    data = {"attempt_id": attempt_id, "status": status, "ended_by": ended_by}
    await domain_events.emit(services, "attempt.submitted", data)
    return True


async def sweep_overdue(services: Services, *, limit: int = 500) -> int:
    """Auto-submit every attempt past its deadline plus grace (a paused one only once the exam's
    close has passed, see :func:`plugins.exams.clock.pause_limit`); returns how many."""
    at = clock.now()
    async with services.db.session() as db:
        rows = await db.execute(
            select(
                col(Attempt.id),
                col(Attempt.deadline_at),
                col(Attempt.paused_at),
                col(Exam.grace_seconds),
                col(Exam.closes_at),
            )
            .join(Exam, col(Exam.id) == col(Attempt.exam_id))
            .where(
                col(Attempt.status) == "in_progress",
                col(Attempt.deadline_at) < at,
                or_(
                    col(Attempt.paused_at).is_(None),
                    and_(col(Exam.closes_at).is_not(None), col(Exam.closes_at) < at),
                ),
            )
            .order_by(col(Attempt.deadline_at))
            .limit(limit)
        )
        due = [
            attempt_id
            for attempt_id, deadline, paused, grace, closes in rows.all()
            if clock.timer_due(
                deadline_at=deadline,
                grace_seconds=grace,
                paused_at=paused,
                closes_at=closes,
                at=at,
            )
        ]
    closed = 0
    for attempt_id in due:
        if await close_attempt(services, attempt_id, "auto_submitted", at, ended_by="timer"):
            closed += 1
    return closed


async def auto_submit_job(ctx: dict[str, Any], *, attempt_id: str) -> str:
    """Job ``exams.auto_submit``: close the attempt if it is due, else re-queue for its new
    deadline (time was credited since the job was queued).

    A paused attempt is left alone: resuming it queues a job for its new deadline. Only the
    exam's close can end it while paused, so the job re-queues itself for that moment.
    """
    services: Services = ctx["services"]
    async with services.db.session() as db:
        attempt = await db.get(Attempt, attempt_id)
        exam = await db.get(Exam, attempt.exam_id) if attempt is not None else None
    if attempt is None or exam is None or attempt.status != "in_progress":
        return "closed"
    at = clock.now()
    if not clock.attempt_due(attempt, exam, at):
        if attempt.paused_at is not None:
            limit = clock.pause_limit(attempt.deadline_at, exam.closes_at, exam.grace_seconds)
            if limit is not None:
                await schedule_auto_submit(services, attempt, exam.grace_seconds, due=limit)
            return "paused"
        await schedule_auto_submit(services, attempt, exam.grace_seconds)
        return "rescheduled"
    await close_attempt(services, attempt_id, "auto_submitted", at, ended_by="timer")
    return "auto_submitted"
