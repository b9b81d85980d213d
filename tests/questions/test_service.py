"""The service the exams plugin calls, on embedded SQLite and on a real MariaDB."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidInput, NotFound
from plugins.questions import service
from plugins.questions.models import QuestionIn, QuestionUpdate
from storage.database import SqlDatabase
from storage.migrate import upgrade

MIGRATIONS = Path(service.__file__).parent / "migrations"


@pytest.fixture(params=["embedded", "production"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "embedded":
        return f"sqlite+aiosqlite:///{tmp_path / 'bank.db'}"
    url: str = request.getfixturevalue("mysql_url")
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncSession]:
    await asyncio.to_thread(upgrade, database_url, [MIGRATIONS])
    database = SqlDatabase(database_url)
    try:
        async with database.session() as session:
            yield session
    finally:
        await database.close()


def question(
    title: str, *, tags: list[str], difficulty: str = "medium", **extra: Any
) -> QuestionIn:
    return QuestionIn.model_validate(
        {
            "type": "true_false",
            "title": title,
            "payload": {"type": "true_false", "answer": True},
            "tags": tags,
            "difficulty": difficulty,
            **extra,
        }
    )


async def test_find_pool(db: AsyncSession) -> None:
    algebra = await service.create_category(db, name="Algebra", parent_id=None)
    other = await service.create_category(db, name="Other", parent_id=None)
    ids = {}
    for title, tags, difficulty, category in [
        ("q1", ["algebra", "linear"], "easy", algebra.id),
        ("q2", ["algebra"], "easy", algebra.id),
        ("q3", ["algebra"], "hard", algebra.id),
        ("q4", ["algebra"], "easy", other.id),
        ("q5", ["geometry"], "easy", algebra.id),
        ("q6", ["algebra"], "easy", algebra.id),
    ]:
        created, _ = await service.create_question(
            db,
            data=question(title, tags=tags, difficulty=difficulty, category_id=category),
            author_id=None,
        )
        assert created.id is not None
        ids[title] = created.id
    await service.archive_question(db, ids["q6"])

    async def pool(**kwargs: Any) -> list[str]:
        found = await service.find_pool(db, **kwargs)
        by_id = {v: k for k, v in ids.items()}
        return [by_id[q.id] for q in found if q.id is not None]

    assert await pool(tags=["Algebra"], difficulty="easy", category_id=algebra.id) == ["q1", "q2"]
    assert await pool(tags=["algebra", "linear"], difficulty=None, category_id=None) == ["q1"]
    assert await pool(tags=["algebra"], difficulty=None, category_id=None) == [
        "q1",
        "q2",
        "q3",
        "q4",
    ]
    assert await pool(tags=[], difficulty="easy", category_id=None) == ["q1", "q2", "q4", "q5"]
    assert await pool(tags=[], difficulty=None, category_id=None, types=["numeric"]) == []
    assert await pool(tags=["nothing"], difficulty=None, category_id=None) == []
    with pytest.raises(InvalidInput):
        await service.find_pool(db, tags=["<bad>"], difficulty=None, category_id=None)


async def test_versions_for_papers(db: AsyncSession) -> None:
    created, first = await service.create_question(
        db, data=question("Original", tags=["t"]), author_id=7
    )
    assert created.id is not None
    assert first.id is not None
    edited, second = await service.update_question(
        db, created.id, data=QuestionUpdate(title="Edited", base_version=1), author_id=8
    )
    assert (edited.current_version, second.version, second.created_by) == (2, 2, 8)
    kept = await service.get_version(db, first.id)
    assert (kept.title, kept.version, kept.created_by) == ("Original", 1, 7)
    assert (await service.current_version(db, created.id)).title == "Edited"
    current = await service.current_versions(db, [created.id, 999])
    assert list(current) == [created.id]
    assert current[created.id].id == second.id
    with pytest.raises(Conflict):
        await service.update_question(
            db, created.id, data=QuestionUpdate(title="Stale", base_version=1), author_id=None
        )
    with pytest.raises(NotFound):
        await service.get_version(db, 999_999)


async def test_concurrent_version_is_a_conflict(db: AsyncSession, database_url: str) -> None:
    """Two editors both writing version 2: the unique constraint makes the second a 409."""
    created, _ = await service.create_question(db, data=question("Q", tags=[]), author_id=None)
    assert created.id is not None
    other = SqlDatabase(database_url)
    try:
        async with other.session() as second:
            await service.update_question(
                second, created.id, data=QuestionUpdate(title="Theirs"), author_id=None
            )
    finally:
        await other.close()
    # ``db`` still believes the question is at version 1.
    with pytest.raises(Conflict):
        await service.update_question(
            db, created.id, data=QuestionUpdate(title="Mine"), author_id=None
        )
    rows = await db.execute(text("SELECT title FROM question_versions ORDER BY version"))
    assert [r[0] for r in rows] == ["Q", "Theirs"]
