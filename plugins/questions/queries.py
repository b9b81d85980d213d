"""Read-side queries over the bank: lists, filters, tags, pools and current versions.

Every list is ordered by question id. For :func:`find_pool` that is part of the contract: the
exams plugin draws from the pool with ``random.Random(seed)``, so the same seed must see the
same candidates in the same order to rebuild the same paper.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import InvalidInput
from plugins.questions.models import QuestionFilter
from plugins.questions.tables import Question, QuestionTag, QuestionVersion


async def list_questions(
    db: AsyncSession, *, filters: QuestionFilter, limit: int | None = None, offset: int = 0
) -> tuple[list[tuple[Question, QuestionVersion]], int]:
    """Questions matching every filter with their current version, by id; and the total."""
    conditions = filter_conditions(filters)
    total = await db.execute(
        select(func.count())
        .select_from(Question)
        .join(QuestionVersion, is_current())
        .where(*conditions)
    )
    statement = (
        select(Question, QuestionVersion)
        .join(QuestionVersion, is_current())
        .where(*conditions)
        .order_by(col(Question.id))
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    rows = await db.execute(statement)
    return [(q, v) for q, v in rows.all()], int(total.scalar_one())


async def find_pool(
    db: AsyncSession,
    *,
    tags: Sequence[str],
    difficulty: str | None,
    category_id: int | None,
    types: Sequence[str] | None = None,
) -> list[Question]:
    """Non-archived questions having every tag (compared lower-case), of the difficulty,
    category (exactly that one, not its sub-categories) and types given (None: any)."""
    try:
        filters = QuestionFilter.model_validate(
            {"tag": list(tags), "difficulty": difficulty, "category_id": category_id}
        )
    except ValidationError as error:
        raise InvalidInput(f"invalid pool: {error}") from None
    conditions = filter_conditions(filters)
    if types is not None:
        conditions.append(col(Question.type).in_(list(types)))
    rows = await db.execute(select(Question).where(*conditions).order_by(col(Question.id)))
    return list(rows.scalars())


async def current_versions(
    db: AsyncSession, question_ids: Iterable[int]
) -> dict[int, QuestionVersion]:
    """The current version of each question, keyed by question id (unknown ids are absent)."""
    ids = sorted(set(question_ids))
    if not ids:
        return {}
    rows = await db.execute(
        select(QuestionVersion).join(Question, is_current()).where(col(Question.id).in_(ids))
    )
    return {v.question_id: v for v in rows.scalars()}


async def tags_of(db: AsyncSession, question_ids: Iterable[int]) -> dict[int, list[str]]:
    """Sorted tags of each question; every requested id is a key."""
    ids = sorted(set(question_ids))
    tags: dict[int, list[str]] = {qid: [] for qid in ids}
    if ids:
        rows = await db.execute(
            select(QuestionTag)
            .where(col(QuestionTag.question_id).in_(ids))
            .order_by(col(QuestionTag.tag))
        )
        for row in rows.scalars():
            tags[row.question_id].append(row.tag)
    return tags


def is_current() -> Any:
    """Join condition: the version row that is its question's current one."""
    return and_(
        col(QuestionVersion.question_id) == col(Question.id),
        col(QuestionVersion.version) == col(Question.current_version),
    )


def filter_conditions(filters: QuestionFilter) -> list[Any]:
    """WHERE clauses for ``filters``; ``q`` needs :class:`QuestionVersion` joined."""
    conditions: list[Any] = []
    if filters.q:
        title = func.lower(col(QuestionVersion.title))
        conditions.append(title.contains(filters.q.lower(), autoescape=True))
    if filters.type is not None:
        conditions.append(col(Question.type) == filters.type)
    for tag in filters.tag:
        tagged = select(col(QuestionTag.question_id)).where(col(QuestionTag.tag) == tag)
        conditions.append(col(Question.id).in_(tagged))
    if filters.difficulty is not None:
        conditions.append(col(Question.difficulty) == filters.difficulty)
    if filters.category_id is not None:
        conditions.append(col(Question.category_id) == filters.category_id)
    if filters.archived is not None:
        conditions.append(col(Question.archived).is_(filters.archived))
    return conditions
