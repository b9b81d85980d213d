"""Storage ports: the interfaces the kernel and plugins program against.

Each port has an embedded adapter (no servers) and a production adapter in ``storage``; both pass
one contract test suite. Every adapter also has ``ping`` (for ``/readyz``) and ``close``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from core.events import Event


@runtime_checkable
class Backend(Protocol):
    """What every adapter offers for health checks and shutdown."""

    name: str

    async def ping(self) -> None:
        """Raise if the backend cannot serve requests right now."""

    async def close(self) -> None:
        """Release connections; safe to call twice."""


class Database(Backend, Protocol):
    """The relational store of record (users, exams, answers, results, scores)."""

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session bound to one transaction scope; commit explicitly."""


class EventLog(Backend, Protocol):
    async def append(self, events: Sequence[Event]) -> None:
        """Store events; appending an id that already exists is a no-op (safe retries)."""

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
        """Events matching every given filter; ``since`` inclusive, ``until`` exclusive."""

    async def count(self, *, attempt_id: str | None = None, kind: str | None = None) -> int:
        """How many events match."""


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    content_type: str
    modified: datetime


class BlobStore(Backend, Protocol):
    async def put(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> BlobInfo:
        """Store (or replace) a blob."""

    async def get(self, key: str) -> bytes:
        """The blob's bytes; raises ``NotFound``."""

    async def stat(self, key: str) -> BlobInfo:
        """The blob's metadata; raises ``NotFound``."""

    async def delete(self, key: str) -> None:
        """Remove a blob; deleting a missing key is not an error."""

    async def list(self, prefix: str = "") -> list[BlobInfo]:
        """Blobs whose key starts with ``prefix``, sorted by key."""

    async def signed_url(self, key: str, expires_in: timedelta) -> str:
        """A URL that serves the blob without credentials until it expires."""


class Cache(Backend, Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Atomically add to a counter; ``ttl`` is set when the counter is created.
        Raises ``InvalidInput`` when the key holds something other than an integer."""


class Bus(Backend, Protocol):
    """Publish/subscribe across processes (live alerts, presence)."""

    async def publish(self, channel: str, message: bytes) -> None: ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Messages published to ``channel`` after the context is entered; the iterator ends
        when the context exits or the bus closes."""


JobStatus = Literal["queued", "in_progress", "complete", "failed", "not_found"]
JobFunction = Callable[..., Awaitable[Any]]


class JobQueue(Backend, Protocol):
    """Background jobs by registered name. Functions receive ``ctx`` then keyword arguments."""

    async def enqueue(
        self,
        name: str,
        *,
        job_id: str | None = None,
        delay: timedelta | None = None,
        **kwargs: Any,
    ) -> str | None:
        """Queue a job; returns its id, or ``None`` when a job with ``job_id`` already exists."""

    def set_context(self, ctx: dict[str, Any]) -> None:
        """Give jobs run by this process their ``ctx`` (``ctx["services"]``); the in-process
        queue needs it, a Redis queue's workers get theirs from ``invigilator worker``."""

    async def status(self, job_id: str) -> JobStatus: ...

    async def result(self, job_id: str, timeout: float = 10.0) -> Any:
        """Wait for the job and return its value; re-raises its failure. Raises the built-in
        ``TimeoutError`` when it does not finish in time and ``NotFound`` for an unknown id."""


JobRegistry = Mapping[str, JobFunction]
