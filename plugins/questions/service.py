"""The question bank as other plugins use it: the only module ``plugins/exams`` imports.

Questions are stable identities; their content lives in immutable versions. A paper stores the
*version* ids it drew, so :func:`update_question` never rewrites a version: a content change
writes version N+1 and moves ``current_version``. Database functions take an open
``AsyncSession`` and commit their own work unless told not to (import batches many creates
into one transaction so that a failing file writes nothing). Grading and the candidate's view
are pure functions re-exported from :mod:`~plugins.questions.grading` and
:mod:`~plugins.questions.views` so callers need a single import.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import Conflict, InvalidInput, NotFound
from plugins.questions.categories import check_category, create_category, list_categories
from plugins.questions.grading import GradeResult, apply_negative_marking, grade
from plugins.questions.models import QuestionIn, QuestionUpdate
from plugins.questions.queries import current_versions, find_pool, list_questions, tags_of
from plugins.questions.tables import Question, QuestionTag, QuestionVersion, utcnow
from plugins.questions.views import candidate_view, option_ids, shuffleable

__all__ = [
    "GradeResult",
    "apply_negative_marking",
    "archive_question",
    "candidate_view",
    "create_category",
    "create_question",
    "current_version",
    "current_versions",
    "find_pool",
    "get_question",
    "get_version",
    "get_version_number",
    "grade",
    "list_categories",
    "list_questions",
    "list_versions",
    "option_ids",
    "shuffleable",
    "tags_of",
    "update_question",
]

CONTENT_FIELDS = ("title", "body", "points", "payload", "explanation")


async def create_question(
    db: AsyncSession, *, data: QuestionIn, author_id: int | None, commit: bool = True
) -> tuple[Question, QuestionVersion]:
    """Insert a question with its version 1 and tags; ``commit=False`` only flushes."""
    await check_category(db, data.category_id)
    question = Question(
        type=data.type,
        category_id=data.category_id,
        difficulty=data.difficulty,
        created_by=author_id,
    )
    db.add(question)
    await db.flush()
    assert question.id is not None
    version = QuestionVersion(
        question_id=question.id,
        version=1,
        title=data.title,
        body=data.body,
        points=data.points,
        payload=data.payload.model_dump(mode="json"),
        explanation=data.explanation,
        created_by=author_id,
    )
    db.add(version)
    db.add_all(QuestionTag(question_id=question.id, tag=tag) for tag in data.tags)
    await (db.commit() if commit else db.flush())
    return question, version


async def update_question(
    db: AsyncSession, question_id: int, *, data: QuestionUpdate, author_id: int | None
) -> tuple[Question, QuestionVersion]:
    """Apply an edit; returns the question and its (possibly new) current version.

    Content that equals the current version's is not a change, so saving an unchanged form
    does not bump the version. Two editors racing for version N+1 meet the unique
    ``(question_id, version)`` constraint: the loser gets :class:`Conflict`, never a lost edit.
    """
    question = await get_question(db, question_id)
    if data.base_version is not None and data.base_version != question.current_version:
        raise Conflict(
            f"question {question_id} is at version {question.current_version}, "
            f"not {data.base_version}; reload it and edit again",
            details={"current_version": question.current_version},
        )
    if data.payload is not None and data.payload.type != question.type:
        raise InvalidInput(
            f"a {question.type} question cannot take a {data.payload.type} payload; "
            "create a new question instead"
        )
    current = await get_version_number(db, question_id, question.current_version)
    new_content = _merged_content(current, data)
    changed = False
    if new_content != {name: getattr(current, name) for name in CONTENT_FIELDS}:
        current = QuestionVersion(
            question_id=question_id,
            version=question.current_version + 1,
            created_by=author_id,
            **new_content,
        )
        db.add(current)
        question.current_version = current.version
        changed = True
    changed |= await _update_metadata(db, question, data)
    if changed:
        question.updated_at = utcnow()
        db.add(question)
        try:
            await db.commit()
        except IntegrityError:
            await db.rollback()
            raise Conflict(
                f"question {question_id} was edited at the same time; reload it and edit again"
            ) from None
    return question, current


async def archive_question(db: AsyncSession, question_id: int) -> Question:
    """Hide a question from lists and pools. Never a delete: attempts reference its versions."""
    question = await get_question(db, question_id)
    if not question.archived:
        question.archived = True
        question.updated_at = utcnow()
        db.add(question)
        await db.commit()
    return question


async def get_question(db: AsyncSession, question_id: int) -> Question:
    question = await db.get(Question, question_id)
    if question is None:
        raise NotFound(f"question {question_id} does not exist")
    return question


async def get_version(db: AsyncSession, version_id: int) -> QuestionVersion:
    """A version by its own id: what a paper stores, readable even after later edits."""
    version = await db.get(QuestionVersion, version_id)
    if version is None:
        raise NotFound(f"question version {version_id} does not exist")
    return version


async def get_version_number(db: AsyncSession, question_id: int, number: int) -> QuestionVersion:
    row = await db.execute(
        select(QuestionVersion).where(
            col(QuestionVersion.question_id) == question_id, col(QuestionVersion.version) == number
        )
    )
    version = row.scalars().first()
    if version is None:
        raise NotFound(f"question {question_id} has no version {number}")
    return version


async def current_version(db: AsyncSession, question_id: int) -> QuestionVersion:
    question = await get_question(db, question_id)
    return await get_version_number(db, question_id, question.current_version)


async def list_versions(db: AsyncSession, question_id: int) -> list[QuestionVersion]:
    await get_question(db, question_id)
    rows = await db.execute(
        select(QuestionVersion)
        .where(col(QuestionVersion.question_id) == question_id)
        .order_by(col(QuestionVersion.version))
    )
    return list(rows.scalars())


def _merged_content(current: QuestionVersion, data: QuestionUpdate) -> dict[str, Any]:
    content = {name: getattr(current, name) for name in CONTENT_FIELDS}
    for name in CONTENT_FIELDS:
        value = getattr(data, name)
        if value is not None:
            content[name] = value.model_dump(mode="json") if name == "payload" else value
    return content


async def _update_metadata(db: AsyncSession, question: Question, data: QuestionUpdate) -> bool:
    changed = False
    if "category_id" in data.model_fields_set and data.category_id != question.category_id:
        await check_category(db, data.category_id)
        question.category_id = data.category_id
        changed = True
    for name in ("difficulty", "archived"):
        value = getattr(data, name)
        if value is not None and value != getattr(question, name):
            setattr(question, name, value)
            changed = True
    if data.tags is not None:
        assert question.id is not None
        if sorted(data.tags) != (await tags_of(db, [question.id]))[question.id]:
            await db.execute(delete(QuestionTag).where(col(QuestionTag.question_id) == question.id))
            db.add_all(QuestionTag(question_id=question.id, tag=tag) for tag in data.tags)
            changed = True
    return changed
