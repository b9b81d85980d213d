"""What a proctor can do to a running attempt: pause it, resume it, end it.

The proctoring plugin calls these after it has checked the proctor's role and audited the
action; they own only the exam side, so the rules about an attempt's clock stay in this plugin:

- **pause** sets ``attempts.paused_at``. While it is set, saves and submit are refused with
  ``409 attempt_paused`` and neither the auto-submit job nor the sweeper ends the attempt,
  unless the exam's close passes (:func:`plugins.exams.clock.pause_limit`).
- **resume** clears it and credits the pause to the deadline with the same compare-and-swap as
  an examiner's time credit (``time_credit_seconds`` grows, an ``exams.time_credited`` event is
  written), then queues the auto-submit job for the new deadline.
- **terminate** closes the attempt exactly as a submit does (answers kept, grading as usual)
  and records ``ended_by = "proctor"`` with the proctor's reason.

Each is idempotent where a proctor may click twice (pausing a paused attempt, resuming one that
runs, ending one a proctor already ended) and refuses with ``409 attempt_closed`` what cannot
happen any more. Every change is a conditional update, so racing a save, a submit, the sweeper
or another proctor never leaves an attempt half paused or closes it twice.
"""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlmodel import col

from core.services import Services
from plugins.exams import attempts, clock, store
from plugins.exams.errors import AttemptClosed
from plugins.exams.tables import Attempt, Exam

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 2000
RESUME_TRIES = 5
PAUSE_REASON = "paused by the proctor"


async def _load(services: Services, attempt_id: str) -> tuple[Attempt, Exam]:
    async with services.db.session() as db:
        attempt = await store.get_attempt(db, attempt_id)
        exam = await store.get_exam(db, attempt.exam_id)
    return attempt, exam


async def _reload(services: Services, attempt_id: str) -> Attempt:
    async with services.db.session() as db:
        return await store.get_attempt(db, attempt_id)


def _closed(attempt: Attempt, action: str) -> AttemptClosed:
    status = attempt.status.replace("_", " ")
    return AttemptClosed(
        f"the attempt is already {status}; it cannot be {action}",
        details={"status": attempt.status, "ended_by": attempt.ended_by},
    )


async def _ended_by_timer(services: Services, attempt: Attempt, exam: Exam) -> Attempt | None:
    """Close an attempt the timer should already have closed (the sweeper had not run yet);
    the closed attempt, or ``None`` when it is not due."""
    at = clock.now()
    if attempt.status != "in_progress" or not clock.attempt_due(attempt, exam, at):
        return None
    await attempts.close_attempt(services, attempt.id, "auto_submitted", at, ended_by="timer")
    return await _reload(services, attempt.id)


def _who(actor_id: int | None) -> str:
    return f"user {actor_id}" if actor_id is not None else "proctor"


async def pause(services: Services, attempt_id: str, *, actor_id: int | None) -> Attempt:
    """Hold the attempt: no saves, no submit, its clock stopped. Idempotent."""
    attempt, exam = await _load(services, attempt_id)
    attempt = await _ended_by_timer(services, attempt, exam) or attempt
    if attempt.status != "in_progress":
        raise _closed(attempt, "paused")
    if attempt.paused_at is not None:
        return attempt
    at = clock.now()
    async with services.db.session() as db:
        result = await db.execute(
            update(Attempt)
            .where(
                col(Attempt.id) == attempt_id,
                col(Attempt.status) == "in_progress",
                col(Attempt.paused_at).is_(None),
            )
            .values(paused_at=at)
        )
        await db.commit()
    paused = await _reload(services, attempt_id)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        if paused.status != "in_progress":  # submitted a moment ago
            raise _closed(paused, "paused")
        return paused  # another proctor paused it first
    log.info("exams: attempt %s paused by %s", attempt_id, _who(actor_id))
    return paused


async def resume(services: Services, attempt_id: str, *, actor_id: int | None) -> Attempt:
    """Let the attempt go on; the pause is credited to its deadline. Idempotent.

    If the exam closed while the attempt was paused, the timer ends it instead and this is
    ``409 attempt_closed``.
    """
    for _ in range(RESUME_TRIES):
        attempt, exam = await _load(services, attempt_id)
        attempt = await _ended_by_timer(services, attempt, exam) or attempt
        if attempt.status != "in_progress":
            raise _closed(attempt, "resumed")
        if attempt.paused_at is None:
            return attempt
        at = clock.now()
        seconds = clock.paused_seconds(attempt.paused_at, at)
        async with services.db.session() as db:
            cleared = await db.execute(
                update(Attempt)
                .where(
                    col(Attempt.id) == attempt_id,
                    col(Attempt.status) == "in_progress",
                    col(Attempt.paused_at) == attempt.paused_at,
                )
                .values(paused_at=None)
            )
            if cleared.rowcount != 1:  # type: ignore[attr-defined]
                await db.rollback()
                continue  # resumed, closed or paused again meanwhile: look again
            credited = await clock.credit_attempts(db, [attempt], seconds) if seconds else []
            if seconds and not credited:  # an examiner's credit moved the deadline meanwhile
                await db.rollback()
                continue
            await db.commit()
        await clock.record_credits(services, credited, seconds, _who(actor_id), PAUSE_REASON)
        resumed = await _reload(services, attempt_id)
        await attempts.schedule_auto_submit(services, resumed, exam.grace_seconds)
        log.info("exams: attempt %s resumed by %s after %d s", attempt_id, _who(actor_id), seconds)
        return resumed
    raise AttemptClosed("the attempt kept changing while resuming; try again")


async def terminate(
    services: Services, attempt_id: str, *, actor_id: int | None, reason: str
) -> Attempt:
    """End the attempt now, as a submit would (answers kept and graded), recording that a
    proctor ended it and why. Ending an attempt a proctor already ended returns it as it is."""
    attempt, exam = await _load(services, attempt_id)
    if attempt.status != "in_progress":
        if attempt.ended_by == "proctor":
            return attempt
        raise _closed(attempt, "ended")
    at = clock.now()
    late = clock.attempt_due(attempt, exam, at)
    closed = await attempts.close_attempt(
        services,
        attempt_id,
        "auto_submitted" if late else "submitted",
        at,
        ended_by="proctor",
        reason=reason.strip()[:MAX_REASON_CHARS],
    )
    ended = await _reload(services, attempt_id)
    if not closed and ended.ended_by != "proctor":
        raise _closed(ended, "ended")
    if closed:
        log.info("exams: attempt %s ended by %s", attempt_id, _who(actor_id))
    return ended
