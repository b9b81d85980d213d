"""Results: the examiner's table and CSV, releasing, and one attempt's result.

A candidate reads their own result only once the exam's results are released and every item
is scored; before that the answer is a 409 that says which of the two is missing. Examiners and
admins read any result at any time.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlmodel import col

from core import domain_events
from core.errors import NotFound
from plugins.exams import bank, clock, grading, manual, results, store
from plugins.exams.attempt_schemas import AttemptResult, ItemResult
from plugins.exams.errors import AttemptInProgress, ResultNotReleased, ResultPending
from plugins.exams.schemas import Released, ResultsOut
from plugins.exams.tables import Answer
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(tags=["results"])
_NOT_FOUND = ErrorSpec(404, "not_found", "No such exam or attempt (or not yours).")


@router.get(
    "/api/v1/exams/{exam_id}/results", response=ResultsOut, roles=store.STAFF, errors=[_NOT_FOUND]
)
async def exam_results(req: ApiRequest) -> ResultsOut:
    """Every attempt with its status, score, percentage and pass/fail."""
    async with req.services.db.session() as db:
        exam = await store.get_exam(db, store.path_int(req, "exam_id"))
        rows = await results.result_rows(db, exam)
    assert exam.id is not None
    return ResultsOut(
        exam_id=exam.id,
        released=results.released(exam, clock.now()),
        rows=rows,
    )


@router.get(
    "/api/v1/exams/{exam_id}/results.csv",
    roles=store.STAFF,
    response_media_type="text/csv",
    errors=[_NOT_FOUND],
)
async def exam_results_csv(req: ApiRequest) -> web.StreamResponse:
    """The results table as CSV (header row; text cells safe from formula injection)."""
    async with req.services.db.session() as db:
        exam = await store.get_exam(db, store.path_int(req, "exam_id"))
        rows = await results.result_rows(db, exam)
    return web.Response(
        body=results.to_csv(rows).encode(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="exam-{exam.id}-results.csv"'},
    )


@router.post(
    "/api/v1/exams/{exam_id}/release", response=Released, roles=store.STAFF, errors=[_NOT_FOUND]
)
async def release_results(req: ApiRequest) -> Released:
    """Release results to candidates now, whatever the release policy (idempotent)."""
    async with req.services.db.session() as db:
        exam = await store.get_exam(db, store.path_int(req, "exam_id"))
        if exam.released_at is None:
            exam.released_at = clock.now()
            exam.updated_at = exam.released_at
            await db.commit()
            await domain_events.emit(req.services, "results.released", {"exam_id": exam.id})
    assert exam.id is not None
    assert exam.released_at is not None
    return Released(exam_id=exam.id, released_at=exam.released_at)


@router.get(
    "/api/v1/attempts/{attempt_id}/result",
    response=AttemptResult,
    roles=store.CANDIDATE | store.STAFF,
    errors=[
        _NOT_FOUND,
        ErrorSpec(409, "attempt_in_progress", "The attempt has not been submitted."),
        ErrorSpec(409, "result_not_released", "Results are not released yet."),
        ErrorSpec(409, "result_pending", "Some items still wait for grading."),
    ],
)
async def attempt_result(req: ApiRequest) -> AttemptResult:
    """Score, pass/fail and per-item marks, feedback and explanations."""
    principal = store.caller(req)
    attempt_id = req.path["attempt_id"]
    async with req.services.db.session() as db:
        if store.is_staff(principal):
            attempt = await store.get_attempt(db, attempt_id)
        else:
            attempt = await store.own_attempt(db, attempt_id, store.caller_id(req))
        exam = await store.get_exam(db, attempt.exam_id)
        if attempt.status == "in_progress":
            raise AttemptInProgress("the attempt has not been submitted")
        if not store.is_staff(principal):
            if not results.released(exam, clock.now()):
                raise ResultNotReleased("results for this exam are not released yet")
            if attempt.status != "graded":
                raise ResultPending("some answers are still being graded")
        answers = {
            a.item: a
            for a in (
                await db.execute(select(Answer).where(col(Answer.attempt_id) == attempt.id))
            ).scalars()
        }
        marks = await manual.rubric_marks(db, [a.id for a in answers.values() if a.id is not None])
        paper = store.paper_of(attempt)
        versions = await bank.versions(db, [item.version_id for item in paper])
    if not paper:
        raise NotFound(f"attempt {attempt_id} has no paper")
    items = []
    for item in paper:
        answer = answers.get(item.item)
        items.append(
            ItemResult(
                item=item.item,
                type=item.type,
                points=item.points,
                score=answer.score if answer else None,
                feedback=answer.feedback if answer else "",
                rubric_scores=marks.get(answer.id or 0) if answer else None,
                response=dict(answer.response) if answer else {},
                explanation=versions[item.version_id].explanation,
            )
        )
    return AttemptResult(
        id=attempt.id,
        exam_id=attempt.exam_id,
        exam_title=exam.title,
        number=attempt.number,
        status=attempt.status,
        submitted_at=attempt.submitted_at,
        score=attempt.score if attempt.status == "graded" else None,
        max_score=attempt.max_score,
        percent=grading.percent(attempt) if attempt.status == "graded" else None,
        passed=grading.passed(exam, attempt),
        ended_by=attempt.ended_by,
        end_reason=attempt.end_reason,
        items=items,
    )
