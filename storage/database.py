"""The relational store of record: SQLModel over SQLAlchemy's async engine.

SQLite (aiosqlite) is the embedded default and MySQL/MariaDB (aiomysql) the production
backend; both are driven through the same models and the same Alembic revisions. An answer,
score or account change is durable once its session has committed — callers commit explicitly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.errors import Unavailable

PING_TIMEOUT_S = 3.0


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work while a writer commits; foreign keys are off by default."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")  # first: switching to WAL may wait for a lock
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (Alembic runs migrations with it)."""
    parsed = make_url(url)
    driver = {"sqlite+aiosqlite": "sqlite", "mysql+aiomysql": "mysql+pymysql"}.get(
        parsed.drivername, parsed.drivername
    )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def create_engine_for(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "mysql":
        query = dict(parsed.query)
        query.setdefault("charset", "utf8mb4")
        return create_async_engine(
            parsed.set(query=query),
            pool_pre_ping=True,
            pool_recycle=1800,
            pool_size=10,
            max_overflow=20,
            connect_args={"connect_timeout": 5},
        )
    raise ValueError(f"unsupported database URL scheme {parsed.drivername}")


class SqlDatabase:
    """The :class:`core.ports.Database` adapter for SQLite and MySQL."""

    name = "database"

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine_for(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._closed = False

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    async def ping(self) -> None:
        try:
            async with asyncio.timeout(PING_TIMEOUT_S):
                async with self.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            reason = f"{type(error).__name__}: {error}".split("\n")[0]
            raise Unavailable(f"database: {reason}") from error

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self.engine.dispose()
