"""Results that open when an exam closes are announced when it closes.

Under the ``after_close`` policy results become visible at ``closes_at`` without anyone
pressing Release, so nobody would tell the candidates. The sweeper of every process calls
:func:`release_closed`: it stamps ``released_at = closes_at`` on such exams with a conditional
update (one process wins, a manual release before the close already set it) and emits
``results.released`` for the exam once. ``released_at`` then says when results opened, whatever
opened them. An exam that closed more than :data:`STALE_AFTER` ago (found on the first start
after an upgrade, or after a long outage) is stamped without a message: news that old would
only confuse.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlmodel import col

from core import domain_events
from core.services import Services
from plugins.exams import clock
from plugins.exams.tables import Exam

STALE_AFTER = timedelta(days=1)


async def release_closed(services: Services) -> list[int]:
    """Announce every ``after_close`` exam that has closed; returns the ids announced here."""
    now = clock.now()
    announced: list[int] = []
    async with services.db.session() as db:
        due = await db.execute(
            select(col(Exam.id), col(Exam.closes_at)).where(
                col(Exam.release_policy) == "after_close",
                col(Exam.released_at).is_(None),
                col(Exam.closes_at).is_not(None),
                col(Exam.closes_at) <= now,
            )
        )
        for exam_id, closes_at in due.all():
            stamped = await db.execute(
                update(Exam)
                .where(col(Exam.id) == exam_id, col(Exam.released_at).is_(None))
                .values(released_at=closes_at)
            )
            fresh = closes_at is not None and now - closes_at <= STALE_AFTER
            if getattr(stamped, "rowcount", 0) == 1 and exam_id is not None and fresh:
                announced.append(exam_id)
        await db.commit()
    for exam_id in announced:
        await domain_events.emit(services, "results.released", {"exam_id": exam_id})
    return announced
