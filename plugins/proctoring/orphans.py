"""Proctored attempts whose camera reaches no process are watched all the same.

Live proctoring learns of an attempt when its stream arrives. A candidate who starts the exam
and then blocks the camera (or whose page never connects, or whose process died) would
otherwise raise nothing: the wall shows "none" and no rule runs. So, every few seconds, each
process

- marks the attempts it streams (cache key ``proctoring:stream:<id>``, a short time to live),
- looks for attempts in progress of proctored exams that no process streams, and takes the
  ones it can claim, loading them like a streamed attempt: with no video the ``camera_off``
  rule raises after its ``min_duration_s``, and the wall shows the reason.

A claim holds for one window of :data:`WINDOW_S`; the holder renews it just before the window
ends, so with several processes exactly one watches an unstreamed attempt (a holder that dies
is replaced within a window). When the stream appears in another process the holder lets the
attempt go, and the new owner's load closes what was left open.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import col

from core.policy import ProctoringPolicy
from core.services import Services
from plugins.exams.tables import Attempt, Exam

WINDOW_S = 60.0  # a claim on an unstreamed attempt lasts this long
RENEW_AHEAD_S = 15.0  # the holder renews within this much of the window's end
STREAM_TTL_S = 15.0  # a stream mark outlives three status refreshes


def window(now: float) -> int:
    return int(now // WINDOW_S)


def _claim_key(attempt_id: str, number: int) -> str:
    return f"proctoring:orphan:{attempt_id}:{number}"


def _stream_key(attempt_id: str) -> str:
    return f"proctoring:stream:{attempt_id}"


async def mark_streams(services: Services, attempt_ids: Iterable[str]) -> None:
    """Tell the other processes which attempts stream here."""
    for attempt_id in attempt_ids:
        await services.cache.set(_stream_key(attempt_id), b"1", ttl=STREAM_TTL_S)


async def streamed_elsewhere(services: Services, attempt_id: str) -> bool:
    return await services.cache.get(_stream_key(attempt_id)) is not None


async def claim(services: Services, attempt_id: str, number: int) -> bool:
    """Take window ``number`` of the attempt; only the first process to ask gets it."""
    taken = await services.cache.incr(_claim_key(attempt_id, number), ttl=2 * WINDOW_S)
    return taken == 1


async def keep(services: Services, attempt_id: str, held: int, now: float) -> int | None:
    """The window still held after this check (renewed near its end), or None when lost."""
    current = window(now)
    if held > current:
        return held  # renewed already
    if held < current:  # a renewal was missed (a stalled loop): try for the current window
        return current if await claim(services, attempt_id, current) else None
    if now < (current + 1) * WINDOW_S - RENEW_AHEAD_S:
        return held
    return current + 1 if await claim(services, attempt_id, current + 1) else None


async def unwatched(services: Services, known: set[str]) -> list[str]:
    """Attempts in progress of exams with live proctoring on that this process does not hold."""
    async with services.db.session() as db:
        rows = await db.execute(
            select(col(Attempt.id), col(Exam.proctoring_policy))
            .join(Exam, col(Exam.id) == col(Attempt.exam_id))
            .where(col(Attempt.status) == "in_progress")
        )
        return [
            str(attempt_id)
            for attempt_id, policy in rows.all()
            if attempt_id not in known and ProctoringPolicy.of(policy).enabled
        ]
