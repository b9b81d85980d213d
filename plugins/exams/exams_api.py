"""Examiner API for exams: create, change, archive, sections and publishing.

Sections can change only while an exam is a draft: once published, attempts hold papers drawn
from them, and results must stay comparable. Settings (window, duration, release...) may still
change on a published exam; they apply to attempts started afterwards, except the release
policy, which applies to everyone. The proctoring policy is validated on every write
(:mod:`plugins.exams.policy`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core import domain_events
from core.errors import InvalidInput
from plugins.exams import bank, clock, policy, store
from plugins.exams.errors import ExamArchived, ExamNotDraft, NotPublishable
from plugins.exams.papers import feasibility_problems
from plugins.exams.schemas import (
    ExamCreate,
    ExamDetail,
    ExamPage,
    ExamPublic,
    ExamQuery,
    ExamSettings,
    SectionIn,
    SectionPublic,
    SectionsIn,
)
from plugins.exams.tables import Exam, ExamCandidate, ExamSection
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/exams", tags=["exams"])
STAFF = store.STAFF
NULLABLE = frozenset({"opens_at", "closes_at", "pass_mark"})
_NOT_FOUND = ErrorSpec(404, "not_found", "No such exam.")
_ARCHIVED = ErrorSpec(409, "exam_archived", "The exam is archived.")
_NOT_DRAFT = ErrorSpec(409, "exam_not_draft", "Only a draft's sections can change.")
_BAD_POLICY = ErrorSpec(
    422, "invalid_policy", "proctoring_policy is not a valid policy (the problem is named)."
)


async def detail(db: AsyncSession, exam: Exam) -> ExamDetail:
    assert exam.id is not None
    sections = await store.get_sections(db, exam.id)
    count = (
        await db.execute(
            select(func.count())
            .select_from(ExamCandidate)
            .where(col(ExamCandidate.exam_id) == exam.id)
        )
    ).scalar_one()
    return ExamDetail.model_validate(
        {
            **exam.model_dump(),
            "sections": [SectionPublic.model_validate(s, from_attributes=True) for s in sections],
            "candidate_count": count,
        }
    )


def _author(req: ApiRequest[Any, Any]) -> int | None:
    user_id = store.caller(req).user_id
    return int(user_id) if user_id.isdigit() else None


def clean_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The written settings with the proctoring policy validated and normalised."""
    if values.get("proctoring_policy") is not None:
        values["proctoring_policy"] = policy.validated(values["proctoring_policy"])
    return values


def check_settings(exam: Exam) -> None:
    """Rules across fields, checked on the exam as it would be stored."""
    if exam.opens_at and exam.closes_at and exam.closes_at <= exam.opens_at:
        raise InvalidInput("closes_at must be after opens_at")
    if exam.release_policy == "after_close" and exam.closes_at is None:
        raise InvalidInput("release_policy after_close needs a closes_at")


async def replace_sections(db: AsyncSession, exam_id: int, sections: list[SectionIn]) -> None:
    await db.execute(delete(ExamSection).where(col(ExamSection.exam_id) == exam_id))
    for position, section in enumerate(sections):
        rules = [rule.model_dump(mode="json", exclude_none=True) for rule in section.rules]
        db.add(ExamSection(exam_id=exam_id, position=position, title=section.title, rules=rules))


@router.get("", query=ExamQuery, response=ExamPage, roles=STAFF)
async def list_exams(req: ApiRequest[None, ExamQuery]) -> ExamPage:
    """Exams, newest first; archived ones only when asked for by status."""
    query = req.query
    conditions = (
        [col(Exam.status) == query.status] if query.status else [col(Exam.status) != "archived"]
    )
    if query.q:
        conditions.append(func.lower(col(Exam.title)).contains(query.q.lower(), autoescape=True))
    async with req.services.db.session() as db:
        total = (
            await db.execute(select(func.count()).select_from(Exam).where(*conditions))
        ).scalar_one()
        rows = await db.execute(
            select(Exam)
            .where(*conditions)
            .order_by(col(Exam.id).desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        items = [ExamPublic.model_validate(e, from_attributes=True) for e in rows.scalars()]
    return ExamPage(items=items, total=total)


@router.post(
    "", body=ExamCreate, response=ExamDetail, status=201, roles=STAFF, errors=[_BAD_POLICY]
)
async def create_exam(req: ApiRequest[ExamCreate, None]) -> ExamDetail:
    """Create a draft exam, optionally with its sections."""
    body = req.body
    values = clean_settings(body.model_dump(exclude_unset=True, exclude={"sections"}))
    exam = Exam(**{k: v for k, v in values.items() if v is not None or k in NULLABLE})
    exam.created_by = _author(req)
    check_settings(exam)
    async with req.services.db.session() as db:
        db.add(exam)
        await db.flush()
        assert exam.id is not None
        if body.sections:
            await replace_sections(db, exam.id, body.sections)
        await db.commit()
        return await detail(db, exam)


@router.get("/{exam_id}", response=ExamDetail, roles=STAFF, errors=[_NOT_FOUND])
async def get_exam(req: ApiRequest) -> ExamDetail:
    """One exam with its sections and the number of candidates."""
    async with req.services.db.session() as db:
        return await detail(db, await store.get_exam(db, store.path_int(req, "exam_id")))


@router.put(
    "/{exam_id}",
    body=ExamSettings,
    response=ExamDetail,
    roles=STAFF,
    errors=[_NOT_FOUND, _ARCHIVED, _BAD_POLICY],
)
async def update_exam(req: ApiRequest[ExamSettings, None]) -> ExamDetail:
    """Change the fields sent (others keep their value); ``null`` clears a nullable field."""
    changes = req.body.model_dump(exclude_unset=True)
    cleared = sorted(k for k, v in changes.items() if v is None and k not in NULLABLE)
    if cleared:
        raise InvalidInput(f"these fields cannot be null: {cleared}")
    clean_settings(changes)
    async with req.services.db.session() as db:
        exam = await store.get_exam(db, store.path_int(req, "exam_id"))
        if exam.status == "archived":
            raise ExamArchived("an archived exam cannot change")
        for name, value in changes.items():
            setattr(exam, name, value)
        check_settings(exam)
        exam.updated_at = clock.now()
        await db.commit()
        changed = await detail(db, exam)
    if exam.status == "published" and {"opens_at", "closes_at"} & changes.keys():
        data = {"exam_id": exam.id, "rescheduled": True}
        await domain_events.emit(req.services, "exam.scheduled", data)
    return changed


@router.delete("/{exam_id}", status=204, roles=STAFF, errors=[_NOT_FOUND])
async def archive_exam(req: ApiRequest) -> None:
    """Archive the exam (never deleted: attempts and results refer to it)."""
    async with req.services.db.session() as db:
        exam = await store.get_exam(db, store.path_int(req, "exam_id"))
        exam.status = "archived"
        exam.updated_at = clock.now()
        await db.commit()


@router.post(
    "/{exam_id}/publish",
    response=ExamDetail,
    roles=STAFF,
    errors=[_NOT_FOUND, _NOT_DRAFT, ErrorSpec(409, "not_publishable", "Problems listed.")],
)
async def publish_exam(req: ApiRequest) -> ExamDetail:
    """Publish a draft after checking that every possible paper can be drawn."""
    async with req.services.db.session() as db:
        exam = await store.get_exam(db, store.path_int(req, "exam_id"))
        if exam.status != "draft":
            raise ExamNotDraft(f"the exam is {exam.status}")
        assert exam.id is not None
        sections = store.section_rules(await store.get_sections(db, exam.id))
        problems = feasibility_problems(sections, await bank.snapshot(db, sections))
        if exam.release_policy == "after_close" and exam.closes_at is None:
            problems.append("release_policy after_close needs a closes_at")
        if exam.closes_at is not None and exam.closes_at <= clock.now():
            problems.append("closes_at is in the past")
        if problems:
            raise NotPublishable("the exam cannot be published", details={"problems": problems})
        exam.status = "published"
        exam.updated_at = clock.now()
        await db.commit()
        published = await detail(db, exam)
    await domain_events.emit(req.services, "exam.scheduled", {"exam_id": exam.id})
    return published


@router.get("/{exam_id}/sections", response=list[SectionPublic], roles=STAFF, errors=[_NOT_FOUND])
async def get_sections(req: ApiRequest) -> list[SectionPublic]:
    """Sections in order with their rules."""
    async with req.services.db.session() as db:
        exam = await store.get_exam(db, store.path_int(req, "exam_id"))
        assert exam.id is not None
        sections = await store.get_sections(db, exam.id)
    return [SectionPublic.model_validate(s, from_attributes=True) for s in sections]


@router.put(
    "/{exam_id}/sections",
    body=SectionsIn,
    response=list[SectionPublic],
    roles=STAFF,
    errors=[_NOT_FOUND, _NOT_DRAFT],
)
async def put_sections(req: ApiRequest[SectionsIn, None]) -> list[SectionPublic]:
    """Replace every section of a draft (rules are checked against the bank at publish)."""
    async with req.services.db.session() as db:
        exam = await store.get_exam(db, store.path_int(req, "exam_id"))
        if exam.status != "draft":
            raise ExamNotDraft(f"the exam is {exam.status}; its sections are fixed")
        assert exam.id is not None
        await replace_sections(db, exam.id, req.body.sections)
        exam.updated_at = clock.now()
        await db.commit()
        sections = await store.get_sections(db, exam.id)
    return [SectionPublic.model_validate(s, from_attributes=True) for s in sections]
