"""Question categories: a tree (``parent_id``) used to file questions and to draw pools.

Import creates the categories a Moodle or GIFT file names, so look-up by name under a parent
lives here too; names are unique under one parent by this module, not by the table.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import Conflict, InvalidInput
from plugins.questions.tables import QuestionCategory


async def list_categories(db: AsyncSession) -> list[QuestionCategory]:
    rows = await db.execute(select(QuestionCategory).order_by(col(QuestionCategory.id)))
    return list(rows.scalars())


async def create_category(
    db: AsyncSession, *, name: str, parent_id: int | None, commit: bool = True
) -> QuestionCategory:
    """A new category; the same name twice under one parent is a :class:`Conflict`."""
    await check_category(db, parent_id, what="parent_id")
    if await find_category(db, name=name, parent_id=parent_id) is not None:
        raise Conflict(f"category {name!r} already exists there")
    category = QuestionCategory(name=name, parent_id=parent_id)
    db.add(category)
    await (db.commit() if commit else db.flush())
    return category


async def find_category(
    db: AsyncSession, *, name: str, parent_id: int | None
) -> QuestionCategory | None:
    parent = col(QuestionCategory.parent_id)
    rows = await db.execute(
        select(QuestionCategory).where(
            col(QuestionCategory.name) == name,
            parent.is_(None) if parent_id is None else parent == parent_id,
        )
    )
    return rows.scalars().first()


async def check_category(
    db: AsyncSession, category_id: int | None, what: str = "category_id"
) -> None:
    if category_id is not None and await db.get(QuestionCategory, category_id) is None:
        raise InvalidInput(f"{what}: category {category_id} does not exist")
