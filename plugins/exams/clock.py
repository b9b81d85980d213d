"""The server owns the clock: deadlines, grace, time credit and outage detection.

Every time-dependent decision reads :func:`now` through this module (``clock.now()``), so tests
move time by replacing that one function instead of sleeping.

A deadline is computed once when an attempt starts and stored; it only moves when time is
credited, either by an examiner or automatically after an outage. Outages are found with one
heartbeat row that every process refreshes: a process starting up that finds the row older than
``outage_threshold_seconds`` knows nobody served in between, claims the gap with a
compare-and-swap on that row (so two processes starting together credit it once) and gives the
gap back to the attempts that were still open when the service went down.

A proctor's pause stops one attempt's clock the same way: nothing ends a paused attempt (except
the exam's own close passing), and resuming credits the pause to its deadline with
:func:`credit_attempts`, like any other credit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from core.events import Event
from core.services import Services
from plugins.exams.tables import Attempt, Exam
from storage.types import UTCDateTime

log = logging.getLogger(__name__)

HEARTBEAT_ROW = "service"
MAX_GRACE = timedelta(hours=1)  # Exam.grace_seconds is at most 3600


def now() -> datetime:
    """The current time, timezone-aware UTC (tests replace this function)."""
    return datetime.now(UTC)


class ExamHeartbeat(SQLModel, table=True):
    """The last time any process of the service was seen up (revision 0002_exams_clock)."""

    __tablename__ = "exam_heartbeats"

    name: str = Field(primary_key=True, max_length=32)
    beat_at: datetime = Field(sa_type=UTCDateTime)


def initial_deadline(
    started_at: datetime,
    duration_minutes: int,
    extra_time_minutes: int,
    closes_at: datetime | None,
) -> datetime:
    """``started_at + duration + extra time``, never past the exam's close."""
    deadline = started_at + timedelta(minutes=duration_minutes + extra_time_minutes)
    if closes_at is not None and closes_at < deadline:
        return closes_at
    return deadline


def saves_until(deadline_at: datetime, grace_seconds: int) -> datetime:
    """The last moment a save is accepted: the deadline plus the exam's grace."""
    return deadline_at + timedelta(seconds=grace_seconds)


def is_overdue(deadline_at: datetime, grace_seconds: int, at: datetime) -> bool:
    return at > saves_until(deadline_at, grace_seconds)


def pause_limit(
    deadline_at: datetime, closes_at: datetime | None, grace_seconds: int
) -> datetime | None:
    """When a paused attempt is ended all the same, as the timer would end it.

    A pause stops the attempt's own clock (its deadline moves on resume), but not the exam's:
    once the exam's close plus grace has passed, the attempt ends. An attempt already running
    past the close on credited time keeps its own deadline plus grace instead. ``None`` when
    the exam has no close: the pause lasts until the proctor resumes or ends the attempt.
    """
    if closes_at is None:
        return None
    return saves_until(max(closes_at, deadline_at), grace_seconds)


def timer_due(
    *,
    deadline_at: datetime,
    grace_seconds: int,
    paused_at: datetime | None,
    closes_at: datetime | None,
    at: datetime,
) -> bool:
    """Whether the timer ends the attempt at ``at`` (the job, the sweeper, a new start)."""
    if paused_at is None:
        return is_overdue(deadline_at, grace_seconds, at)
    limit = pause_limit(deadline_at, closes_at, grace_seconds)
    return limit is not None and at > limit


def attempt_due(attempt: Attempt, exam: Exam, at: datetime) -> bool:
    """:func:`timer_due` for an attempt and its exam."""
    return timer_due(
        deadline_at=attempt.deadline_at,
        grace_seconds=exam.grace_seconds,
        paused_at=attempt.paused_at,
        closes_at=exam.closes_at,
        at=at,
    )


def paused_seconds(paused_at: datetime, at: datetime) -> int:
    """Whole seconds a pause lasted, rounded up: a pause never costs the candidate time."""
    return max(math.ceil((at - paused_at).total_seconds()), 0)


@dataclass(frozen=True)
class Credited:
    attempt_id: str
    deadline_at: datetime


async def credit_attempts(
    db: AsyncSession, attempts: Sequence[Attempt], seconds: int
) -> list[Credited]:
    """Extend each in-progress attempt's deadline by ``seconds``; the caller commits.

    Each row is changed only if it still has the deadline that was read (compare-and-swap), so
    a credit racing a submit or another credit never resurrects or double-moves an attempt.
    Credit is not capped at the exam's close: it gives back time the service took away.
    """
    credited: list[Credited] = []
    for attempt in attempts:
        deadline = attempt.deadline_at + timedelta(seconds=seconds)
        result = await db.execute(
            update(Attempt)
            .where(
                col(Attempt.id) == attempt.id,
                col(Attempt.status) == "in_progress",
                col(Attempt.deadline_at) == attempt.deadline_at,
            )
            .values(
                deadline_at=deadline,
                time_credit_seconds=col(Attempt.time_credit_seconds) + seconds,
            )
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            credited.append(Credited(attempt.id, deadline))
    return credited


async def record_credits(
    services: Services, credited: Sequence[Credited], seconds: int, by: str, reason: str = ""
) -> None:
    """One ``exams.time_credited`` event per attempt, for the review timeline. Best effort:
    the credit itself is already committed on the attempt."""
    events = [
        Event(
            kind="exams.time_credited",
            attempt_id=c.attempt_id,
            source="exams",
            data={
                "seconds": seconds,
                "by": by,
                "reason": reason,
                "deadline_at": c.deadline_at.isoformat(),
            },
        )
        for c in credited
    ]
    if not events:
        return
    try:
        await services.events.append(events)
    except Exception:
        log.exception("exams: could not record %d time credits", len(events))


async def beat(db: AsyncSession, at: datetime) -> None:
    """Record that the service is up now; never moves the heartbeat backwards."""
    result = await db.execute(
        update(ExamHeartbeat)
        .where(col(ExamHeartbeat.name) == HEARTBEAT_ROW, col(ExamHeartbeat.beat_at) < at)
        .values(beat_at=at)
    )
    if result.rowcount == 0 and await db.get(ExamHeartbeat, HEARTBEAT_ROW) is None:  # type: ignore[attr-defined]
        db.add(ExamHeartbeat(name=HEARTBEAT_ROW, beat_at=at))
    try:
        await db.commit()
    except IntegrityError:  # another process created the row first: its beat is as good
        await db.rollback()


@dataclass(frozen=True)
class Outage:
    last_seen: datetime
    detected_at: datetime
    credited: list[Credited]

    @property
    def seconds(self) -> int:
        return int((self.detected_at - self.last_seen).total_seconds())


async def detect_outage(
    db: AsyncSession, at: datetime, *, threshold_seconds: int, credit: bool
) -> Outage | None:
    """At start-up: when nobody served for longer than the threshold, claim the gap once and
    (with ``credit``) give it to the attempts that were open when the service went down."""
    row = await db.get(ExamHeartbeat, HEARTBEAT_ROW)
    if row is None:
        await beat(db, at)
        return None
    last_seen = row.beat_at
    if (at - last_seen).total_seconds() <= threshold_seconds:
        return None
    claimed = await db.execute(
        update(ExamHeartbeat)
        .where(col(ExamHeartbeat.name) == HEARTBEAT_ROW, col(ExamHeartbeat.beat_at) == last_seen)
        .values(beat_at=at)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await db.rollback()  # another process is crediting this outage
        return None
    credited: list[Credited] = []
    if credit:
        open_then = await db.execute(
            select(Attempt, col(Exam.grace_seconds))
            .join(Exam, col(Exam.id) == col(Attempt.exam_id))
            .where(
                col(Attempt.status) == "in_progress",
                col(Attempt.paused_at).is_(None),  # its resume credits the whole pause
                col(Attempt.deadline_at) >= last_seen - MAX_GRACE,
            )
        )
        victims = [
            a for a, grace in open_then.all() if saves_until(a.deadline_at, grace) >= last_seen
        ]
        credited = await credit_attempts(db, victims, int((at - last_seen).total_seconds()))
    await db.commit()
    outage = Outage(last_seen=last_seen, detected_at=at, credited=credited)
    log.warning(
        "exams: service was down for %d s; credited %d in-progress attempts",
        outage.seconds,
        len(credited),
    )
    return outage
