"""Reading violations back and keeping the stored score in step with them.

Both the live path (the process holding the media) and the review API (any process) score
through here, from the same inputs: the violations in the event log, the exam's weights and
the reviewers' dismissals in SQL. Either can therefore recompute what the other wrote.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import col

from core.policy import ProctoringPolicy, Weight
from core.rules import Violation, fold
from core.scoring import ScoreBreakdown, score
from core.services import Services
from plugins.exams.tables import Attempt, Exam
from plugins.proctoring.tables import ProctoringScore, ViolationReview, utcnow

VIOLATION_KINDS = ("violation.started", "violation.updated", "violation.ended")


async def load_violations(services: Services, attempt_id: str) -> list[Violation]:
    events = await services.events.query(
        attempt_id=attempt_id, kinds=list(VIOLATION_KINDS), limit=20_000
    )
    return fold(event.data for event in events)


async def dismissed(services: Services, attempt_id: str) -> set[str]:
    async with services.db.session() as db:
        rows = await db.execute(
            select(col(ViolationReview.violation_id)).where(
                col(ViolationReview.attempt_id) == attempt_id,
                col(ViolationReview.decision) == "dismissed",
            )
        )
        return {str(row[0]) for row in rows}


async def policy_of(services: Services, attempt_id: str) -> tuple[Attempt, Exam, ProctoringPolicy]:
    async with services.db.session() as db:
        attempt = await db.get(Attempt, attempt_id)
        if attempt is None:
            raise LookupError(attempt_id)
        exam = await db.get(Exam, attempt.exam_id)
        if exam is None:
            raise LookupError(attempt_id)
        return attempt, exam, ProctoringPolicy.of(exam.proctoring_policy)


async def save_score(
    services: Services,
    attempt_id: str,
    exam_id: int,
    breakdown: ScoreBreakdown,
    violations: Iterable[Violation],
) -> None:
    """Upsert the attempt's score row with this breakdown."""
    listed = list(violations)
    async with services.db.session() as db:
        row = await db.get(ProctoringScore, attempt_id)
        if row is None:
            row = ProctoringScore(attempt_id=attempt_id, exam_id=exam_id)
        row.score = breakdown.score
        row.breakdown = breakdown.model_dump(mode="json")
        row.violations = len(listed)
        row.open_violations = sum(1 for v in listed if v.open)
        row.updated_at = utcnow()
        db.add(row)
        await db.commit()


async def rescore(
    services: Services,
    attempt_id: str,
    *,
    weights: dict[str, Weight] | None = None,
    save: bool = True,
    now: float | None = None,
) -> ScoreBreakdown:
    """Score an attempt from the event log; with ``weights`` other than the exam's if given."""
    attempt, exam, policy = await policy_of(services, attempt_id)
    violations = await load_violations(services, attempt_id)
    chosen = {**policy.weights(), **(weights or {})}
    moment = now if now is not None else time.time()
    if attempt.status != "in_progress" and attempt.submitted_at is not None:
        moment = min(moment, attempt.submitted_at.timestamp())
    breakdown = score(
        violations, chosen, dismissed=await dismissed(services, attempt_id), now=moment
    )
    if save:
        await save_score(services, attempt_id, exam.id or 0, breakdown, violations)
    return breakdown
