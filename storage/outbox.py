"""A durable outbox in front of the event log and the blob store.

A violation or snapshot that cannot be written because MongoDB or S3 is down must not be lost.
:class:`DurableEventLog` and :class:`DurableBlobStore` try the real backend first; when it
raises ``Unavailable`` the write is stored in the relational database (the store of record) and
acknowledged. :class:`Outbox` delivers what is waiting, oldest first, with exponential backoff,
from a background task of every process. Event appends are idempotent by id and blob puts
replace by key, so a delivery repeated after a crash is harmless.

While a process has anything waiting for a backend, its new writes to that backend queue behind
it instead of overtaking it, so a blob key is never overwritten by an older version.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from core.errors import InvigilatorError, Unavailable
from core.events import Event
from core.ports import BlobInfo, BlobStore, Database, EventLog
from storage.blobs.keys import validate_key
from storage.tables.outbox import OutboxItem

log = logging.getLogger(__name__)

EVENT_LOG, BLOBS = "event_log", "blobs"
MAX_BACKOFF_S = 300.0
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Outbox:
    """Stores undeliverable writes in the database and delivers them later."""

    def __init__(
        self, db: Database, events: EventLog, blobs: BlobStore, clock: Clock = _utcnow
    ) -> None:
        self.db, self.events, self.blobs, self.clock = db, events, blobs, clock
        self.backlog = {EVENT_LOG: False, BLOBS: False}
        self._task: asyncio.Task[None] | None = None

    async def store(
        self,
        target: str,
        payload: bytes,
        *,
        blob_key: str | None = None,
        content_type: str | None = None,
        error: str = "",
    ) -> None:
        async with self.db.session() as session:
            session.add(
                OutboxItem(
                    target=target,
                    payload=payload,
                    blob_key=blob_key,
                    content_type=content_type,
                    last_error=error[:500] or None,
                    created_at=self.clock(),
                    next_attempt_at=self.clock(),
                )
            )
            await session.commit()
        self.backlog[target] = True
        log.warning("%s unavailable; write kept in the outbox: %s", target, error)

    async def discard_blob(self, key: str) -> None:
        """Forget queued puts of ``key`` (it is being deleted)."""
        async with self.db.session() as session:
            await session.execute(
                delete(OutboxItem).where(
                    col(OutboxItem.target) == BLOBS, col(OutboxItem.blob_key) == key
                )
            )
            await session.commit()

    async def pending(self, target: str | None = None) -> int:
        query = select(func.count()).select_from(OutboxItem)
        if target is not None:
            query = query.where(col(OutboxItem.target) == target)
        async with self.db.session() as session:
            return int((await session.execute(query)).scalar_one())

    async def flush(self, limit: int = 200) -> int:
        """Deliver due items oldest first; stop at a target's first failure. Returns delivered."""
        now = self.clock()
        async with self.db.session() as session:
            due = list(
                (
                    await session.execute(
                        select(OutboxItem)
                        .where(col(OutboxItem.next_attempt_at) <= now)
                        .order_by(col(OutboxItem.id))
                        .limit(limit)
                        .with_for_update(skip_locked=True)  # two processes never deliver one item
                    )
                ).scalars()
            )
            delivered = 0
            failed: set[str] = set()
            for item in due:
                if item.target in failed:
                    continue
                try:
                    await self._deliver(item)
                except Unavailable as error:  # still down: back off, keep order
                    failed.add(item.target)
                    item.attempts += 1
                    backoff = min(2.0**item.attempts, MAX_BACKOFF_S)
                    item.next_attempt_at = now + timedelta(seconds=backoff)
                    item.last_error = error.message[:500]
                    continue
                except InvigilatorError as error:  # can never succeed: drop it, loudly
                    log.error("outbox item %s dropped: %s", item.id, error.message)
                await session.delete(item)
                delivered += 1
            await session.commit()
        for target in (EVENT_LOG, BLOBS):
            if self.backlog[target] and target not in failed:
                self.backlog[target] = await self.pending(target) > 0
        return delivered

    async def _deliver(self, item: OutboxItem) -> None:
        if item.target == EVENT_LOG:
            raw = json.loads(item.payload)
            await self.events.append([Event.model_validate(e) for e in raw])
        elif item.target == BLOBS and item.blob_key is not None:
            await self.blobs.put(
                item.blob_key, item.payload, item.content_type or "application/octet-stream"
            )
        else:  # an unknown target can never be delivered: drop it loudly
            log.error("outbox item %s has unknown target %s; dropped", item.id, item.target)

    async def _loop(self, interval: float) -> None:
        while True:
            try:
                await self.flush()
            except SQLAlchemyError as error:  # database down, or not migrated yet
                log.warning("outbox flush failed: %s", str(error).split("\n")[0])
            except Exception:
                log.exception("outbox flush failed")
            await asyncio.sleep(interval)

    def start(self, interval: float = 5.0) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(interval), name="outbox")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _try(write: Callable[[], Awaitable[Any]]) -> tuple[Any, str | None]:
    try:
        return await write(), None
    except Unavailable as error:
        return None, error.message


class DurableEventLog:
    """The event log, with appends that survive an outage of its server."""

    name = "event_log"

    def __init__(self, inner: EventLog, outbox: Outbox) -> None:
        self.inner, self.outbox = inner, outbox

    async def append(self, events: Sequence[Event]) -> None:
        if not events:
            return
        error: str | None = "earlier writes are still waiting"
        if not self.outbox.backlog[EVENT_LOG]:
            _, error = await _try(lambda: self.inner.append(events))
            if error is None:
                return
        payload = json.dumps([e.model_dump(mode="json") for e in events]).encode()
        await self.outbox.store(EVENT_LOG, payload, error=error or "")

    async def query(self, **filters: Any) -> list[Event]:
        return await self.inner.query(**filters)

    async def count(self, *, attempt_id: str | None = None, kind: str | None = None) -> int:
        return await self.inner.count(attempt_id=attempt_id, kind=kind)

    async def ping(self) -> None:
        await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()


class DurableBlobStore:
    """The blob store, with puts that survive an outage of its server."""

    name = "blobs"

    def __init__(self, inner: BlobStore, outbox: Outbox) -> None:
        self.inner, self.outbox = inner, outbox

    async def put(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> BlobInfo:
        validate_key(key)  # a bad key must fail now, not sit in the outbox forever
        error: str | None = "earlier writes are still waiting"
        if not self.outbox.backlog[BLOBS]:
            info, error = await _try(lambda: self.inner.put(key, data, content_type))
            if error is None:
                return info  # type: ignore[no-any-return]
        await self.outbox.store(
            BLOBS, data, blob_key=key, content_type=content_type, error=error or ""
        )
        return BlobInfo(
            key=key, size=len(data), content_type=content_type, modified=self.outbox.clock()
        )

    async def get(self, key: str) -> bytes:
        return await self.inner.get(key)

    async def stat(self, key: str) -> BlobInfo:
        return await self.inner.stat(key)

    async def delete(self, key: str) -> None:
        await self.outbox.discard_blob(key)  # a queued put must not bring it back later
        await self.inner.delete(key)

    async def list(self, prefix: str = "") -> list[BlobInfo]:
        return await self.inner.list(prefix)

    async def signed_url(self, key: str, expires_in: timedelta) -> str:
        return await self.inner.signed_url(key, expires_in)

    async def ping(self) -> None:
        await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:  # adapter extras: verify_url, open_path
        return getattr(self.inner, name)
