"""Jobs and drafts as the API uses them: start a job, edit, approve and reject drafts.

Approval is the one way a generated question enters the bank. It flips the draft from
``draft`` to ``approved`` with a conditional UPDATE in the same transaction that creates the
question, so two examiners approving at once (or a double click) make exactly one question;
the loser gets 409. Rejected and approved drafts cannot be edited any more.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import Conflict, InvalidInput, NotFound
from plugins.generation.schemas import DraftQuery, DraftUpdate, GenerateOptions
from plugins.generation.tables import GenerationJob, QuestionDraft, utcnow
from plugins.questions import service as bank
from plugins.questions.models import QuestionIn


async def create_job(
    db: AsyncSession,
    *,
    options: GenerateOptions,
    source_kind: str,
    text: str,
    source_name: str,
    backend: str,
    author_id: int | None,
) -> GenerationJob:
    counts: dict[str, int] = {k: v for k, v in options.counts.items() if v > 0}
    job = GenerationJob(
        created_by=author_id,
        source_kind=source_kind,
        source_name=source_name[:200],
        source_hash=hashlib.sha256(text.encode()).hexdigest(),
        source_text=text,
        backend=backend,
        difficulty=options.difficulty,
        language=options.language,
        counts=counts,
        total=sum(counts.values()),
    )
    db.add(job)
    await db.commit()
    await db.refresh(job)
    return job


async def get_job(db: AsyncSession, job_id: int, *, stale_after: timedelta) -> GenerationJob:
    """The job; one whose process stopped (no sign of life for ``stale_after``) is closed as
    failed here, saying how far it got, so the page never waits forever."""
    job = await db.get(GenerationJob, job_id)
    if job is None:
        raise NotFound(f"generation job {job_id} does not exist")
    if job.status in ("queued", "running") and utcnow() - job.heartbeat_at > stale_after:
        job.status = "failed"
        job.errors = [
            *job.errors,
            {
                "type": "",
                "number": 0,
                "message": f"the job stopped responding after {job.done} of {job.total} "
                "questions (the server or worker stopped); start a new job for the rest",
            },
        ]
        job.finished_at = utcnow()
        db.add(job)
        await db.commit()
        await db.refresh(job)
    return job


async def list_drafts(db: AsyncSession, query: DraftQuery) -> tuple[list[QuestionDraft], int]:
    where = []
    if query.job_id is not None:
        where.append(col(QuestionDraft.job_id) == query.job_id)
    if query.status is not None:
        where.append(col(QuestionDraft.status) == query.status)
    total = (
        await db.execute(select(func.count()).select_from(QuestionDraft).where(*where))
    ).scalar_one()
    rows = await db.execute(
        select(QuestionDraft)
        .where(*where)
        .order_by(col(QuestionDraft.job_id), col(QuestionDraft.position))
        .limit(query.limit)
        .offset(query.offset)
    )
    return list(rows.scalars()), int(total)


async def get_draft(db: AsyncSession, draft_id: int) -> QuestionDraft:
    draft = await db.get(QuestionDraft, draft_id)
    if draft is None:
        raise NotFound(f"draft {draft_id} does not exist")
    return draft


def _as_question(draft: QuestionDraft, **overrides: Any) -> QuestionIn:
    data: dict[str, Any] = {
        "type": draft.type,
        "title": draft.title,
        "body": draft.body,
        "points": draft.points,
        "payload": draft.payload,
        "explanation": draft.explanation,
        "tags": draft.tags,
        "difficulty": draft.difficulty,
        **overrides,
    }
    try:
        return QuestionIn.model_validate(data)
    except ValidationError as error:
        details = [
            {"loc": list(e["loc"]), "msg": e["msg"]}
            for e in error.errors(include_url=False, include_input=False)
        ]
        raise InvalidInput("the draft is not a valid question", details=details) from None


def _open(draft: QuestionDraft) -> None:
    if draft.status != "draft":
        raise Conflict(f"draft {draft.id} is already {draft.status}")


async def update_draft(db: AsyncSession, draft_id: int, data: DraftUpdate) -> QuestionDraft:
    draft = await get_draft(db, draft_id)
    _open(draft)
    changes = data.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    if data.payload is not None and data.payload.type != draft.type:
        raise InvalidInput(f"a {draft.type} draft cannot take a {data.payload.type} payload")
    checked = _as_question(draft, **changes)
    draft.title, draft.body, draft.points = checked.title, checked.body, checked.points
    draft.payload = checked.payload.model_dump(mode="json")
    draft.explanation, draft.tags = checked.explanation, list(checked.tags)
    draft.difficulty = checked.difficulty
    draft.updated_at = utcnow()
    db.add(draft)
    await db.commit()
    await db.refresh(draft)
    return draft


async def approve_draft(
    db: AsyncSession, draft_id: int, *, category_id: int | None, author_id: int | None
) -> QuestionDraft:
    """Create the bank question and mark the draft approved, both or neither."""
    draft = await get_draft(db, draft_id)
    _open(draft)
    content = _as_question(draft, category_id=category_id)
    claimed = await db.execute(
        update(QuestionDraft)
        .where(col(QuestionDraft.id) == draft_id, col(QuestionDraft.status) == "draft")
        .values(status="approved", updated_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await db.rollback()
        raise Conflict(f"draft {draft_id} was approved or rejected at the same time")
    try:
        question, _ = await bank.create_question(
            db, data=content, author_id=author_id, commit=False
        )
    except Exception:
        await db.rollback()
        raise
    await db.execute(
        update(QuestionDraft)
        .where(col(QuestionDraft.id) == draft_id)
        .values(question_id=question.id)
    )
    await db.commit()
    return await _fresh(db, draft_id)


async def reject_draft(db: AsyncSession, draft_id: int) -> QuestionDraft:
    draft = await get_draft(db, draft_id)
    _open(draft)
    claimed = await db.execute(
        update(QuestionDraft)
        .where(col(QuestionDraft.id) == draft_id, col(QuestionDraft.status) == "draft")
        .values(status="rejected", updated_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await db.rollback()
        raise Conflict(f"draft {draft_id} was approved or rejected at the same time")
    await db.commit()
    return await _fresh(db, draft_id)


async def _fresh(db: AsyncSession, draft_id: int) -> QuestionDraft:
    db.expire_all()
    return await get_draft(db, draft_id)
