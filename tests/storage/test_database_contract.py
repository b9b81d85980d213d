"""The relational store: one contract, run on embedded SQLite and on a real MariaDB."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from core.errors import Conflict, Unavailable
from storage.crud.user import count_users, create_user, get_user_by_email
from storage.database import SqlDatabase
from storage.migrate import pending_revisions, upgrade
from storage.passwords import verify_password
from storage.tables.user import Role, UserCreate

SAMPLE_MIGRATIONS = (
    Path(__file__).resolve().parents[1] / "fixtures" / "sample_plugin" / "migrations"
)


@pytest.fixture(params=["embedded", "production"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "embedded":
        return f"sqlite+aiosqlite:///{tmp_path / 'contract.db'}"
    url: str = request.getfixturevalue("mysql_url")
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[SqlDatabase]:
    await asyncio.to_thread(upgrade, database_url, [SAMPLE_MIGRATIONS])
    db = SqlDatabase(database_url)
    try:
        yield db
    finally:
        async with db.engine.begin() as connection:
            await connection.execute(text("DELETE FROM users"))
        await db.close()


async def test_migrations_create_kernel_and_plugin_tables(database: SqlDatabase) -> None:
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"users", "sample_notes", "alembic_version"} <= tables
    pending = await asyncio.to_thread(pending_revisions, database.url, [SAMPLE_MIGRATIONS])
    assert pending == []


async def test_pending_revisions_reported_before_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    pending = await asyncio.to_thread(pending_revisions, url, [SAMPLE_MIGRATIONS])
    assert set(pending) == {"0002_kernel", "0001_sample"}


async def test_user_round_trip_and_unique_email(database: SqlDatabase) -> None:
    async with database.session() as session:
        user = await create_user(
            session,
            user_in=UserCreate(
                email="Alice@Example.com",
                display_name="Alice",
                role=Role.PROCTOR,
                password="correct horse battery",
            ),
        )
        assert user.id is not None
        assert user.email == "alice@example.com"
    async with database.session() as session:
        found = await get_user_by_email(session, email="ALICE@example.com")
        assert found is not None
        assert found.role == Role.PROCTOR
        assert found.created_at.tzinfo is not None
        assert abs((found.created_at - user.created_at).total_seconds()) < 0.001
        assert verify_password(found.password_hash, "correct horse battery")
        assert not verify_password(found.password_hash, "wrong")
        with pytest.raises(Conflict):
            await create_user(
                session,
                user_in=UserCreate(
                    email="alice@example.com",
                    display_name="Again",
                    password="another password",
                ),
            )
        assert await count_users(session) == 1


async def test_uncommitted_work_is_not_visible(database: SqlDatabase) -> None:
    async with database.session() as session:
        await session.execute(text("INSERT INTO sample_notes (id, text) VALUES (1, 'draft')"))
        await session.rollback()
    async with database.session() as session:
        rows = (await session.execute(text("SELECT COUNT(*) FROM sample_notes"))).scalar_one()
    assert rows == 0


async def test_ping(database: SqlDatabase) -> None:
    await database.ping()


async def test_ping_reports_a_down_server() -> None:
    db = SqlDatabase("mysql+aiomysql://root@127.0.0.1:1/nothing")
    try:
        with pytest.raises(Unavailable, match="database"):
            await db.ping()
    finally:
        await db.close()
