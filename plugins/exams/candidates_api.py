"""Examiner API for who sits an exam (with accommodations) and for giving time back.

Time credit is recorded on each attempt (``time_credit_seconds``) and as an
``exams.time_credited`` event in the attempt's event log, so a reviewer can see why a deadline
moved and who moved it. The auto-submit job queued for the old deadline finds the attempt not
yet due when it runs and queues itself again for the new one.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlmodel import col

from core import domain_events
from core.errors import InvalidInput
from core.services import Services
from plugins.exams import clock, store
from plugins.exams.config import ExamsConfig
from plugins.exams.errors import ExamArchived
from plugins.exams.schemas import (
    CandidatePublic,
    CandidatesIn,
    CreditedAttempt,
    TimeCreditIn,
    TimeCreditOut,
)
from plugins.exams.tables import Attempt, ExamCandidate
from storage.tables.user import User
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/exams", tags=["exams"])
_NOT_FOUND = ErrorSpec(404, "not_found", "No such exam.")


async def _candidates(services: Services, exam_id: int) -> list[CandidatePublic]:
    async with services.db.session() as db:
        counts = dict(
            (
                await db.execute(
                    select(col(Attempt.user_id), func.count())
                    .where(col(Attempt.exam_id) == exam_id)
                    .group_by(col(Attempt.user_id))
                )
            ).all()
        )
        rows = await db.execute(
            select(ExamCandidate, col(User.email), col(User.display_name))
            .join(User, col(User.id) == col(ExamCandidate.user_id))
            .where(col(ExamCandidate.exam_id) == exam_id)
            .order_by(col(User.email))
        )
        return [
            CandidatePublic(
                user_id=seat.user_id,
                email=email,
                display_name=name,
                extra_time_minutes=seat.extra_time_minutes,
                exempt_detectors=list(seat.exempt_detectors),
                notes=seat.notes,
                attempts=counts.get(seat.user_id, 0),
            )
            for seat, email, name in rows.all()
        ]


@router.get(
    "/{exam_id}/candidates", response=list[CandidatePublic], roles=store.STAFF, errors=[_NOT_FOUND]
)
async def get_candidates(req: ApiRequest) -> list[CandidatePublic]:
    """Assigned candidates with their accommodations and how many attempts each made."""
    exam_id = store.path_int(req, "exam_id")
    async with req.services.db.session() as db:
        await store.get_exam(db, exam_id)
    return await _candidates(req.services, exam_id)


@router.put(
    "/{exam_id}/candidates",
    body=CandidatesIn,
    response=list[CandidatePublic],
    roles=store.STAFF,
    errors=[_NOT_FOUND, ErrorSpec(409, "exam_archived", "The exam is archived.")],
)
async def put_candidates(req: ApiRequest[CandidatesIn, None]) -> list[CandidatePublic]:
    """Replace the candidate list; every user must exist and have the candidate role."""
    exam_id = store.path_int(req, "exam_id")
    wanted = {c.user_id: c for c in req.body.candidates}
    limit = req.services.section("exams", ExamsConfig).max_candidates_per_exam
    if len(wanted) > limit:
        raise InvalidInput(f"at most {limit} candidates per exam", details={"limit": limit})
    async with req.services.db.session() as db:
        exam = await store.get_exam(db, exam_id)
        if exam.status == "archived":
            raise ExamArchived("an archived exam cannot change")
        roles: dict[int, str] = {}
        ids = list(wanted)
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            found = await db.execute(
                select(col(User.id), col(User.role)).where(col(User.id).in_(chunk))
            )
            roles.update({int(i or 0): str(r) for i, r in found.all()})
        unknown = sorted(set(wanted) - set(roles))
        not_candidates = sorted(i for i, role in roles.items() if role != "candidate")
        if unknown or not_candidates:
            raise InvalidInput(
                "every listed user must be an existing candidate",
                details={"unknown": unknown, "not_candidates": not_candidates},
            )
        existing = {
            seat.user_id: seat
            for seat in (
                await db.execute(select(ExamCandidate).where(col(ExamCandidate.exam_id) == exam_id))
            ).scalars()
        }
        gone = [uid for uid in existing if uid not in wanted]
        if gone:
            await db.execute(
                delete(ExamCandidate).where(
                    col(ExamCandidate.exam_id) == exam_id, col(ExamCandidate.user_id).in_(gone)
                )
            )
        for user_id, entry in wanted.items():
            seat = existing.get(user_id) or ExamCandidate(exam_id=exam_id, user_id=user_id)
            seat.extra_time_minutes = entry.extra_time_minutes
            seat.exempt_detectors = list(entry.exempt_detectors)
            seat.notes = entry.notes
            db.add(seat)
        await db.commit()
    if exam.status == "published":  # the new candidates hear of it; reminders are re-planned
        added = sorted(set(wanted) - set(existing))
        data = {"exam_id": exam_id, "user_ids": added}
        await domain_events.emit(req.services, "exam.scheduled", data)
    return await _candidates(req.services, exam_id)


@router.post(
    "/{exam_id}/time-credit",
    body=TimeCreditIn,
    response=TimeCreditOut,
    roles=store.STAFF,
    errors=[_NOT_FOUND],
)
async def time_credit(req: ApiRequest[TimeCreditIn, None]) -> TimeCreditOut:
    """Extend the deadlines of in-progress attempts (all of the exam's, or those listed).

    Attempts already submitted are left alone; the answer lists the ones that moved.
    """
    exam_id = store.path_int(req, "exam_id")
    body = req.body
    async with req.services.db.session() as db:
        await store.get_exam(db, exam_id)
        query = select(Attempt).where(
            col(Attempt.exam_id) == exam_id, col(Attempt.status) == "in_progress"
        )
        if body.attempt_ids is not None:
            query = query.where(col(Attempt.id).in_(body.attempt_ids))
        targets = list((await db.execute(query)).scalars())
        credited = await clock.credit_attempts(db, targets, body.minutes * 60)
        await db.commit()
    by = f"user {store.caller(req).user_id}"
    await clock.record_credits(req.services, credited, body.minutes * 60, by, body.reason)
    return TimeCreditOut(
        minutes=body.minutes,
        credited=[
            CreditedAttempt(attempt_id=c.attempt_id, deadline_at=c.deadline_at) for c in credited
        ],
    )
