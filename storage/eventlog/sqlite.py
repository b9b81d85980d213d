"""The embedded event log: one SQLite table in its own file, next to the relational database.

The log lives outside the Alembic-managed schema because it is append-only and never migrated in
place; the adapter creates its table on open. WAL mode lets the web process and a worker append
while readers query, and ``INSERT OR IGNORE`` makes a retried append (from the outbox) harmless.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from core.errors import InvalidInput, Unavailable
from core.events import Event
from storage.eventlog import check_query

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS events (
        id TEXT PRIMARY KEY,
        ts INTEGER NOT NULL,
        kind TEXT NOT NULL,
        attempt_id TEXT,
        source TEXT NOT NULL,
        data TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS events_attempt_ts ON events (attempt_id, ts)",
    "CREATE INDEX IF NOT EXISTS events_kind_ts ON events (kind, ts)",
    "CREATE INDEX IF NOT EXISTS events_ts ON events (ts)",
)


def to_millis(value: datetime) -> int:
    """Epoch milliseconds, rounded up so a bound with sub-millisecond digits filters the same
    way here as in MongoDB (whose dates have millisecond precision)."""
    return -((EPOCH - value) // MILLISECOND)


def from_millis(value: int) -> datetime:
    return EPOCH + value * MILLISECOND


def parse_sqlite_url(url: str) -> str:
    """``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``sqlite:///:memory:``."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise InvalidInput(f"event log URL must look like sqlite:///path.db, got {url!r}")
    return url[len(prefix) :].split("?", 1)[0]


class SqliteEventLog:
    """Event log in an SQLite file. Call :meth:`open` before use."""

    name = "event_log"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    @classmethod
    def from_url(cls, url: str) -> SqliteEventLog:
        return cls(parse_sqlite_url(url))

    async def open(self) -> None:
        if self._conn is not None:
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Prepare the file with the plain driver first: a path that cannot be opened then
            # fails here, cleanly, instead of inside aiosqlite's worker thread (which reports the
            # failure to the event loop later, possibly after the loop has closed).
            await asyncio.to_thread(self._prepare)
        try:
            conn = await aiosqlite.connect(self.path)
        except sqlite3.Error as error:
            raise Unavailable(f"event log: cannot open {self.path}: {error}") from error
        try:
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA busy_timeout=5000")
            if self.path == ":memory:":
                await conn.executescript(";\n".join(SCHEMA))
                await conn.commit()
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    def _prepare(self) -> None:
        """Create the table and indexes and switch the file to WAL (a persistent setting).

        WAL: readers never block the writer. NORMAL sync (set per connection) is crash-safe in
        WAL mode and only risks the last transactions on power loss; busy_timeout covers a
        second process (a worker) writing at the same moment.
        """
        try:
            conn = sqlite3.connect(self.path, timeout=5)
        except sqlite3.Error as error:
            raise Unavailable(f"event log: cannot open {self.path}: {error}") from error
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(";\n".join(SCHEMA))
            conn.commit()
        except sqlite3.Error as error:
            raise Unavailable(f"event log: cannot prepare {self.path}: {error}") from error
        finally:
            conn.close()

    def _connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise Unavailable("event log: not open (call open() first, or it was closed)")
        return self._conn

    async def ping(self) -> None:
        conn = self._connection()
        try:
            async with conn.execute("SELECT 1") as cursor:
                await cursor.fetchone()
        except (sqlite3.Error, ValueError) as error:
            raise Unavailable(f"event log: {error}") from error

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def append(self, events: Sequence[Event]) -> None:
        if not events:
            return
        rows = []
        for event in events:
            # JSON mode turns datetimes, UUIDs, etc. into strings, exactly as MongoEventLog does,
            # so a query returns the same ``data`` on either backend.
            data = event.model_dump(mode="json")["data"]
            rows.append(
                (
                    event.id,
                    to_millis(event.ts),
                    event.kind,
                    event.attempt_id,
                    event.source,
                    json.dumps(data, separators=(",", ":")),
                )
            )
        conn = self._connection()
        async with self._write_lock:
            try:
                await conn.executemany(
                    "INSERT OR IGNORE INTO events (id, ts, kind, attempt_id, source, data) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
                await conn.commit()
            except sqlite3.Error as error:
                await conn.rollback()
                raise Unavailable(f"event log: append failed: {error}") from error

    async def query(
        self,
        *,
        attempt_id: str | None = None,
        kinds: Sequence[str] | None = None,
        kind_prefix: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
        newest_first: bool = False,
    ) -> list[Event]:
        check_query(limit, kinds, since, until)
        if limit == 0 or (kinds is not None and not kinds):
            return []
        where, params = _where(attempt_id, kinds, kind_prefix, since, until)
        order = "DESC" if newest_first else "ASC"
        sql = (
            "SELECT id, ts, kind, attempt_id, source, data FROM events"  # noqa: S608
            f"{where} ORDER BY ts {order}, id {order} LIMIT ?"
        )
        rows = await self._fetch(sql, [*params, limit])
        return [
            Event(
                id=row[0],
                ts=from_millis(row[1]),
                kind=row[2],
                attempt_id=row[3],
                source=row[4],
                data=json.loads(row[5]),
            )
            for row in rows
        ]

    async def count(self, *, attempt_id: str | None = None, kind: str | None = None) -> int:
        where, params = _where(attempt_id, [kind] if kind is not None else None, None, None, None)
        rows = await self._fetch(f"SELECT COUNT(*) FROM events{where}", params)  # noqa: S608
        return int(rows[0][0])

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        conn = self._connection()
        try:
            async with conn.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as error:
            raise Unavailable(f"event log: query failed: {error}") from error


def _where(
    attempt_id: str | None,
    kinds: Sequence[str] | None,
    kind_prefix: str | None,
    since: datetime | None,
    until: datetime | None,
) -> tuple[str, list[Any]]:
    """Build the WHERE clause; values are always bound parameters, never interpolated."""
    clauses: list[str] = []
    params: list[Any] = []
    if attempt_id is not None:
        clauses.append("attempt_id = ?")
        params.append(attempt_id)
    if kinds is not None:
        clauses.append(f"kind IN ({', '.join('?' for _ in kinds)})")
        params.extend(kinds)
    if kind_prefix:
        # The range bound lets SQLite use the (kind, ts) index; substr keeps it exact and
        # case-sensitive (LIKE would be case-insensitive and treat % and _ as wildcards).
        clauses.append("kind >= ? AND substr(kind, 1, ?) = ?")
        params.extend([kind_prefix, len(kind_prefix), kind_prefix])
    if since is not None:
        clauses.append("ts >= ?")
        params.append(to_millis(since))
    if until is not None:
        clauses.append("ts < ?")
        params.append(to_millis(until))
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return where, params
