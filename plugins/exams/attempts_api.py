"""Candidate API: my exams, starting or resuming an attempt, the attempt page's data, autosave
and submit.

Every attempt route answers 404 for an attempt that is not the caller's. The attempt view
shows questions only through the bank's ``candidate_view`` (no correct answers, explanations,
option feedback or hidden tests) and, under sequential navigation, only up to the first item
that has neither an answer nor an explicit skip. It also says whether a proctor paused the
attempt, so a page reloaded during a pause stays paused.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlmodel import col

from core.errors import NotFound
from plugins.exams import attempts, autosave, bank, clock, policy, results, store
from plugins.exams.attempt_schemas import (
    AttemptSummary,
    AttemptView,
    ItemView,
    MyExam,
    SaveAck,
    SaveAnswer,
    SavedAnswerView,
)
from plugins.exams.tables import Answer, Attempt, Exam, ExamCandidate
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(tags=["attempts"])
CANDIDATE = store.CANDIDATE
_NOT_FOUND = ErrorSpec(404, "not_found", "No such exam or attempt (or not yours).")
_CLOSED = ErrorSpec(409, "attempt_closed", "The attempt is submitted or past deadline + grace.")
_PAUSED = ErrorSpec(409, "attempt_paused", "A proctor paused the attempt; wait for the resume.")


def summary(attempt: Attempt) -> AttemptSummary:
    return AttemptSummary(
        id=attempt.id,
        exam_id=attempt.exam_id,
        number=attempt.number,
        status=attempt.status,
        started_at=attempt.started_at,
        deadline_at=attempt.deadline_at,
        submitted_at=attempt.submitted_at,
        server_now=clock.now(),
        ended_by=attempt.ended_by,
    )


@router.get("/api/v1/my/exams", response=list[MyExam], roles=CANDIDATE)
async def my_exams(req: ApiRequest) -> list[MyExam]:
    """Published exams assigned to me, with their state and my remaining attempts."""
    user_id = store.caller_id(req)
    at = clock.now()
    async with req.services.db.session() as db:
        rows = await db.execute(
            select(Exam, ExamCandidate)
            .join(ExamCandidate, col(ExamCandidate.exam_id) == col(Exam.id))
            .where(col(ExamCandidate.user_id) == user_id, col(Exam.status) == "published")
            .order_by(col(Exam.opens_at), col(Exam.id))
        )
        pairs = list(rows.all())
        mine = await db.execute(
            select(Attempt)
            .where(
                col(Attempt.user_id) == user_id,
                col(Attempt.exam_id).in_([exam.id for exam, _ in pairs]),
            )
            .order_by(col(Attempt.number))
        )
        by_exam: dict[int, list[Attempt]] = {}
        for attempt in mine.scalars():
            by_exam.setdefault(attempt.exam_id, []).append(attempt)
    listed = []
    for exam, seat in pairs:
        assert exam.id is not None
        taken = by_exam.get(exam.id, [])
        state = "open"
        if exam.opens_at is not None and at < exam.opens_at:
            state = "upcoming"
        elif exam.closes_at is not None and at >= exam.closes_at:
            state = "closed"
        current = next((a for a in taken if a.status == "in_progress"), None)
        last = taken[-1] if taken else None
        listed.append(
            MyExam(
                id=exam.id,
                title=exam.title,
                description=exam.description,
                opens_at=exam.opens_at,
                closes_at=exam.closes_at,
                duration_minutes=exam.duration_minutes,
                extra_time_minutes=seat.extra_time_minutes,
                navigation=exam.navigation,
                state=state,
                attempts_allowed=exam.attempts_allowed,
                attempts_used=len(taken),
                attempts_left=max(exam.attempts_allowed - len(taken), 0),
                in_progress_attempt_id=current.id if current else None,
                last_attempt_id=last.id if last else None,
                result_released=bool(
                    last and last.status == "graded" and results.released(exam, at)
                ),
                proctored=policy.is_proctored(exam.proctoring_policy),
            )
        )
    return listed


@router.post(
    "/api/v1/my/exams/{exam_id}/attempts",
    response=AttemptSummary,
    status=201,
    roles=CANDIDATE,
    errors=[
        _NOT_FOUND,
        ErrorSpec(409, "exam_not_open", "The exam has not opened yet."),
        ErrorSpec(409, "exam_closed", "The exam has closed."),
        ErrorSpec(409, "no_attempts_left", "Every allowed attempt has been used."),
        ErrorSpec(409, "paper_unavailable", "The bank cannot supply a paper any more."),
        ErrorSpec(
            409,
            "consent_required",
            "A plugin refused the start (invigilator_attempt_starting); the code is its answer, "
            "e.g. consent_required for a proctored exam without consent.",
        ),
    ],
)
async def start_attempt(req: ApiRequest) -> web.StreamResponse:
    """Start an attempt (201), or resume the one in progress (200).

    The deadline is fixed now: duration plus my extra time, capped at the exam's close. Before
    anything is created, plugins may refuse the start (``invigilator_attempt_starting``): the
    409's code is theirs.
    """
    attempt, created = await attempts.start_or_resume(
        req.services, store.path_int(req, "exam_id"), store.caller_id(req)
    )
    return web.Response(
        body=summary(attempt).model_dump_json(),
        status=201 if created else 200,
        content_type="application/json",
    )


@router.get(
    "/api/v1/attempts/{attempt_id}", response=AttemptView, roles=CANDIDATE, errors=[_NOT_FOUND]
)
async def get_attempt(req: ApiRequest) -> AttemptView:
    """The paper (as a candidate may see it), my saved answers, the deadline and server time.

    The page corrects its timer with ``deadline_at - server_now``, never the device's clock.
    """
    async with req.services.db.session() as db:
        attempt = await store.own_attempt(db, req.path["attempt_id"], store.caller_id(req))
        exam = await store.get_exam(db, attempt.exam_id)
        sections = await store.get_sections(db, attempt.exam_id)
        saved = {
            a.item: a
            for a in (
                await db.execute(select(Answer).where(col(Answer.attempt_id) == attempt.id))
            ).scalars()
        }
        paper = store.paper_of(attempt)
        versions = await bank.versions(db, [item.version_id for item in paper])
    frontier = len(paper)
    if exam.navigation == "sequential" and attempt.status == "in_progress":
        frontier = next((i.item for i in paper if i.item not in saved), len(paper))
    items = []
    for item in paper:
        locked = item.item > frontier
        answer = saved.get(item.item)
        items.append(
            ItemView(
                item=item.item,
                section=item.section,
                type=item.type,
                points=item.points,
                locked=locked,
                question=None
                if locked
                else bank.candidate_view(versions[item.version_id], item.option_order, item.points),
                answer=SavedAnswerView(
                    response=answer.response,
                    seq=answer.seq,
                    flagged=answer.flagged,
                    saved_at=answer.saved_at,
                )
                if answer is not None and answer.seq > 0
                else None,
            )
        )
    return AttemptView(
        **summary(attempt).model_dump(),
        exam_title=exam.title,
        navigation=exam.navigation,
        grace_seconds=exam.grace_seconds,
        sections=[s.title for s in sections],
        items=items,
        paused=attempt.paused_at is not None,
        paused_at=attempt.paused_at,
        proctored=policy.is_proctored(exam.proctoring_policy),
    )


@router.put(
    "/api/v1/attempts/{attempt_id}/answers/{item}",
    body=SaveAnswer,
    response=SaveAck,
    roles=CANDIDATE,
    max_body_bytes=1024 * 1024,
    errors=[
        _NOT_FOUND,
        _CLOSED,
        _PAUSED,
        ErrorSpec(409, "stale_answer", "seq is not newer than the stored one (details.seq)."),
        ErrorSpec(409, "sequence_required", "Sequential: answer or skip earlier items first."),
        ErrorSpec(413, "answer_too_large", "The response is over [exams] max_answer_bytes."),
        ErrorSpec(422, "invalid_answer", "The response does not fit the question."),
    ],
)
async def save_answer(req: ApiRequest[SaveAnswer, None]) -> SaveAck:
    """Autosave one item; answered 200 only once the answer is committed.

    Resending a save is harmless: the same ``seq`` again is ``409 stale_answer``.
    """
    raw_item = req.path["item"]
    if not raw_item.isdigit() or len(raw_item) > 6:
        raise NotFound(f"no item {raw_item!r}")
    saved = await autosave.save_answer(
        req.services,
        req.path["attempt_id"],
        store.caller_id(req),
        int(raw_item),
        seq=req.body.seq,
        response=req.body.response,
        flagged=req.body.flagged,
    )
    return SaveAck(item=saved.item, seq=saved.seq, saved_at=saved.saved_at)


@router.post(
    "/api/v1/attempts/{attempt_id}/submit",
    response=AttemptSummary,
    roles=CANDIDATE,
    errors=[_NOT_FOUND, _PAUSED],
)
async def submit_attempt(req: ApiRequest) -> AttemptSummary:
    """Submit; idempotent (submitting again answers the attempt as it is). Refused while a
    proctor has the attempt paused."""
    attempt = await attempts.submit(req.services, req.path["attempt_id"], store.caller_id(req))
    return summary(attempt)
