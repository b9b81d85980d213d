"""The production event log: one MongoDB collection, written with PyMongo's async client.

Documents use the event id as ``_id`` so the unique primary index makes a retried append a no-op,
and ``ts`` is a BSON date so range queries and TTL indexes work server-side.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, ConnectionFailure, PyMongoError

from core.errors import InvalidInput, Unavailable
from core.events import Event
from storage.eventlog import check_query
from storage.eventlog.sqlite import from_millis, to_millis

DEFAULT_DATABASE = "invigilator"
COLLECTION = "events"
DUPLICATE_KEY = 11000
# PyMongo waits 30 s for a server by default; a readiness probe needs an answer much sooner.
DEFAULT_SELECTION_TIMEOUT_MS = 5000

Document = dict[str, Any]


class MongoEventLog:
    """Event log in MongoDB. ``url`` is a mongodb:// URL whose path names the database."""

    name = "event_log"

    def __init__(self, url: str) -> None:
        if not url.startswith(("mongodb://", "mongodb+srv://")):
            raise InvalidInput(f"event log URL must start with mongodb://, got {url!r}")
        options: dict[str, Any] = {}
        if "serverselectiontimeoutms" not in url.lower():
            options["serverSelectionTimeoutMS"] = DEFAULT_SELECTION_TIMEOUT_MS
        try:
            self._client: AsyncMongoClient[Document] = AsyncMongoClient(
                url, tz_aware=True, tzinfo=UTC, connect=False, **options
            )
        except PyMongoError as error:
            raise InvalidInput(f"event log URL is invalid: {error}") from error
        self._collection = self._client.get_default_database(DEFAULT_DATABASE)[COLLECTION]
        self._closed = False
        self._indexed = False

    @asynccontextmanager
    async def _guard(self, action: str) -> AsyncIterator[None]:
        """Turn driver errors into Unavailable so callers (and the outbox) retry later."""
        if self._closed:
            raise Unavailable("event log: closed")
        try:
            yield
        except ConnectionFailure as error:
            raise Unavailable(f"event log: MongoDB unreachable during {action}: {error}") from error
        except PyMongoError as error:
            raise Unavailable(f"event log: {action} failed: {error}") from error

    async def ensure_indexes(self) -> None:
        async with self._guard("index creation"):
            await self._collection.create_index([("attempt_id", ASCENDING), ("ts", ASCENDING)])
            await self._collection.create_index([("kind", ASCENDING), ("ts", ASCENDING)])
            await self._collection.create_index([("ts", ASCENDING)])
        self._indexed = True

    async def ping(self) -> None:
        async with self._guard("ping"):
            await self._client.admin.command("ping")
        if not self._indexed:  # the server was down at start-up: finish setting up now
            await self.ensure_indexes()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._client.close()

    async def append(self, events: Sequence[Event]) -> None:
        if not events:
            return
        documents = [
            {
                "_id": event.id,
                # Stored from epoch milliseconds so the value is exactly what SQLite keeps.
                "ts": from_millis(to_millis(event.ts)),
                "kind": event.kind,
                "attempt_id": event.attempt_id,
                "source": event.source,
                "data": event.model_dump(mode="json")["data"],
            }
            for event in events
        ]
        async with self._guard("append"):
            try:
                await self._collection.insert_many(documents, ordered=False)
            except BulkWriteError as error:
                others = [
                    item
                    for item in error.details.get("writeErrors", [])
                    if item.get("code") != DUPLICATE_KEY
                ]
                if others or error.details.get("writeConcernErrors"):
                    raise

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
            return []  # MongoDB reads limit(0) as "no limit"
        spec = _filter(attempt_id, kinds, kind_prefix, since, until)
        direction = DESCENDING if newest_first else ASCENDING
        async with self._guard("query"):
            cursor = (
                self._collection.find(spec)
                .sort([("ts", direction), ("_id", direction)])
                .limit(limit)
            )
            documents = await cursor.to_list()
        return [
            Event(
                id=doc["_id"],
                ts=doc["ts"],
                kind=doc["kind"],
                attempt_id=doc.get("attempt_id"),
                source=doc["source"],
                data=doc.get("data") or {},
            )
            for doc in documents
        ]

    async def count(self, *, attempt_id: str | None = None, kind: str | None = None) -> int:
        spec = _filter(attempt_id, [kind] if kind is not None else None, None, None, None)
        async with self._guard("count"):
            return await self._collection.count_documents(spec)


def _filter(
    attempt_id: str | None,
    kinds: Sequence[str] | None,
    kind_prefix: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Document:
    spec: Document = {}
    if attempt_id is not None:
        spec["attempt_id"] = attempt_id
    kind: Document = {}
    if kinds is not None:
        kind["$in"] = list(kinds)
    if kind_prefix:
        # Anchored and escaped: "violation." must not match "violationXfoo"; an anchored,
        # case-sensitive regex is also the form MongoDB can answer from the kind index.
        kind["$regex"] = "^" + re.escape(kind_prefix)
    if kind:
        spec["kind"] = kind
    ts: Document = {}
    if since is not None:
        ts["$gte"] = from_millis(to_millis(since))
    if until is not None:
        ts["$lt"] = from_millis(to_millis(until))
    if ts:
        spec["ts"] = ts
    return spec
