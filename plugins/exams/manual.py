"""The manual grading queue: items a machine could not score, and the marks people give.

An item is in the queue while its attempt is submitted and its answer has no score: non-blank
essays, and programs no judge graded. A person's mark is an item score in the paper's points
(``0 ≤ score ≤ points``), optionally with per-criterion rubric marks; given only rubric marks,
the score is their share of the rubric's total, scaled to the item's points. People may also
re-mark any item of a submitted attempt (an appeal); the total is recomputed each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import InvalidInput
from core.services import Services
from plugins.exams import bank, clock, grading, store
from plugins.exams.errors import AttemptInProgress
from plugins.exams.papers import PaperItem
from plugins.exams.tables import Answer, Attempt, Exam

SUBMITTED = ("submitted", "auto_submitted", "graded")


@dataclass(frozen=True)
class QueueEntry:
    attempt_id: str
    exam_id: int
    exam_title: str
    user_id: int
    item: int
    type: str
    points: float
    title: str
    body: str
    rubric: list[dict[str, Any]]
    response: dict[str, Any]
    submitted_at: Any


async def queue(
    db: AsyncSession, *, exam_id: int | None, limit: int, offset: int
) -> tuple[list[QueueEntry], int]:
    """Unscored answers of submitted attempts, oldest submission first."""
    conditions: list[Any] = [
        col(Answer.score).is_(None),
        col(Attempt.status).in_(("submitted", "auto_submitted")),
    ]
    if exam_id is not None:
        conditions.append(col(Attempt.exam_id) == exam_id)
    joined = select(Answer, Attempt, col(Exam.title)).join(
        Attempt, col(Attempt.id) == col(Answer.attempt_id)
    )
    joined = joined.join(Exam, col(Exam.id) == col(Attempt.exam_id)).where(*conditions)
    total = (
        await db.execute(
            select(func.count())
            .select_from(Answer)
            .join(Attempt, col(Attempt.id) == col(Answer.attempt_id))
            .where(*conditions)
        )
    ).scalar_one()
    rows = list(
        (
            await db.execute(
                joined.order_by(col(Attempt.submitted_at), col(Attempt.id), col(Answer.item))
                .limit(limit)
                .offset(offset)
            )
        ).all()
    )
    versions = await bank.versions(db, [answer.question_version_id for answer, _, _ in rows])
    entries = []
    for answer, attempt, title in rows:
        item = store.paper_item(attempt, answer.item)
        version = versions[answer.question_version_id]
        entries.append(
            QueueEntry(
                attempt_id=attempt.id,
                exam_id=attempt.exam_id,
                exam_title=title,
                user_id=attempt.user_id,
                item=answer.item,
                type=item.type,
                points=item.points,
                title=version.title,
                body=version.body,
                rubric=list(version.payload.get("rubric", [])),
                response=dict(answer.response),
                submitted_at=attempt.submitted_at,
            )
        )
    return entries, int(total)


def mark_from_rubric(
    item: PaperItem, rubric: list[dict[str, Any]], marks: dict[str, float]
) -> float:
    """Check per-criterion marks against the rubric; their share scaled to the item's points."""
    limits = {str(c["criterion"]): float(c["points"]) for c in rubric}
    unknown = sorted(set(marks) - set(limits))
    if unknown:
        raise InvalidInput(
            f"unknown rubric criteria {unknown}", details={"criteria": sorted(limits)}
        )
    missing = sorted(set(limits) - set(marks))
    if missing:
        raise InvalidInput(f"no mark for rubric criteria {missing}", details={"missing": missing})
    over = sorted(name for name, mark in marks.items() if not 0 <= mark <= limits[name])
    if over:
        raise InvalidInput(
            f"marks outside each criterion's points: {over}", details={"limits": limits}
        )
    return round(sum(marks.values()) / sum(limits.values()) * item.points, 6)


async def record(
    services: Services,
    attempt_id: str,
    item_number: int,
    *,
    score: float | None,
    feedback: str,
    rubric_scores: dict[str, float] | None,
    grader_id: int | None,
) -> Attempt:
    """Store a person's mark for one item and recompute the attempt's total."""
    async with services.db.session() as db:
        attempt = await store.get_attempt(db, attempt_id)
        if attempt.status not in SUBMITTED:
            raise AttemptInProgress("the attempt has not been submitted yet")
        item = store.paper_item(attempt, item_number)
        version = (await bank.versions(db, [item.version_id]))[item.version_id]
        rubric = list(version.payload.get("rubric", []))
        if rubric_scores is not None:
            if not rubric:
                raise InvalidInput("this question has no rubric; send a score")
            from_rubric = mark_from_rubric(item, rubric, rubric_scores)
            score = from_rubric if score is None else score
        if score is None:
            raise InvalidInput("send a score or rubric_scores")
        if not 0 <= score <= item.points:
            raise InvalidInput(
                f"the score must be between 0 and {item.points}", details={"points": item.points}
            )
        values = {"score": round(score, 6), "feedback": feedback, "graded_by": grader_id}
        answer_id = (
            await db.execute(
                select(col(Answer.id)).where(
                    col(Answer.attempt_id) == attempt_id, col(Answer.item) == item_number
                )
            )
        ).scalar()
        if answer_id is None:
            result = await db.execute(
                insert(Answer).values(
                    attempt_id=attempt_id,
                    item=item_number,
                    question_version_id=item.version_id,
                    response={},
                    seq=0,
                    flagged=False,
                    saved_at=clock.now(),
                    **values,
                )
            )
            answer_id = result.inserted_primary_key[0]  # type: ignore[attr-defined]
        else:
            await db.execute(update(Answer).where(col(Answer.id) == answer_id).values(**values))
        await db.execute(
            update(Answer).where(col(Answer.id) == answer_id).values(rubric_scores=rubric_scores)
        )
        await db.commit()
    await grading.update_totals(services, attempt_id)
    async with services.db.session() as db:
        return await store.get_attempt(db, attempt_id)


async def rubric_marks(db: AsyncSession, answer_ids: list[int]) -> dict[int, dict[str, float]]:
    """Stored rubric marks by answer id (answers without any are left out)."""
    if not answer_ids:
        return {}
    rows = await db.execute(
        select(col(Answer.id), col(Answer.rubric_scores)).where(col(Answer.id).in_(answer_ids))
    )
    return {int(i or 0): dict(marks) for i, marks in rows.all() if marks}
