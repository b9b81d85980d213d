"""Examiner API for the manual grading queue and for marking one item."""

from __future__ import annotations

from core.errors import NotFound
from plugins.exams import manual, store
from plugins.exams.schemas import GradeSaved, ManualGrade, QueueItem, QueuePage, QueueQuery
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/grading", tags=["grading"])


@router.get("/queue", query=QueueQuery, response=QueuePage, roles=store.STAFF)
async def grading_queue(req: ApiRequest[None, QueueQuery]) -> QueuePage:
    """Items waiting for a person, oldest submission first, with the rubric and response."""
    query = req.query
    async with req.services.db.session() as db:
        entries, total = await manual.queue(
            db, exam_id=query.exam_id, limit=query.limit, offset=query.offset
        )
    return QueuePage(
        items=[QueueItem.model_validate(e, from_attributes=True) for e in entries], total=total
    )


@router.put(
    "/{attempt_id}/{item}",
    body=ManualGrade,
    response=GradeSaved,
    roles=store.STAFF,
    errors=[
        ErrorSpec(404, "not_found", "No such attempt or item."),
        ErrorSpec(409, "attempt_in_progress", "The attempt has not been submitted."),
    ],
)
async def grade_item(req: ApiRequest[ManualGrade, None]) -> GradeSaved:
    """Mark one item: a score in the item's points and/or per-criterion rubric marks.

    The attempt's total and pass/fail are recomputed; once every item has a score the attempt
    is ``graded``.
    """
    raw_item = req.path["item"]
    if not raw_item.isdigit() or len(raw_item) > 6:
        raise NotFound(f"no item {raw_item!r}")
    user_id = store.caller(req).user_id
    body = req.body
    attempt = await manual.record(
        req.services,
        req.path["attempt_id"],
        int(raw_item),
        score=body.score,
        feedback=body.feedback,
        rubric_scores=body.rubric_scores,
        grader_id=int(user_id) if user_id.isdigit() else None,
    )
    return GradeSaved(
        attempt_id=attempt.id,
        item=int(raw_item),
        attempt_status=attempt.status,
        attempt_score=attempt.score if attempt.status == "graded" else None,
        max_score=attempt.max_score,
    )
