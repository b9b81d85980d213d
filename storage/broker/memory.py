"""In-process cache, bus and job queue for the embedded default (one process, no servers).

They keep the production semantics that callers rely on: TTLs, atomic counters, pub/sub that
only delivers to current subscribers, job ids that deduplicate, and failures that surface from
``result``. Nothing here survives a restart; that is what the Redis adapters are for.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from core.errors import InvalidInput, NotFound, Unavailable
from core.ports import JobRegistry, JobStatus
from storage.broker import check_job_name


class MemoryCache:
    """A dict with expiry times. Single-threaded asyncio makes every method atomic."""

    name = "cache"

    def __init__(self) -> None:
        self._values: dict[str, tuple[bytes | int, float | None]] = {}
        self._closed = False
        self._sweep_counter = itertools.count()

    def _live(self, key: str) -> bytes | int | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at is not None and expires_at <= time.monotonic():
            del self._values[key]
            return None
        return value

    def _sweep(self) -> None:
        """Drop expired entries now and then so keys that are never read again do not pile up."""
        if next(self._sweep_counter) % 1024:
            return
        now = time.monotonic()
        for key in [k for k, (_, exp) in self._values.items() if exp is not None and exp <= now]:
            del self._values[key]

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else time.monotonic() + ttl

    async def get(self, key: str) -> bytes | None:
        value = self._live(key)
        if isinstance(value, int):
            return str(value).encode()  # as Redis returns a counter
        return value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._sweep()
        self._values[key] = (bytes(value), self._expiry(ttl))

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        self._sweep()
        current = self._live(key)
        if current is None:
            self._values[key] = (amount, self._expiry(ttl))
            return amount
        if isinstance(current, bytes):
            try:
                current = int(current)
            except ValueError:
                raise InvalidInput(f"cache key {key!r} does not hold an integer") from None
        _, expires_at = self._values[key]
        self._values[key] = (current + amount, expires_at)
        return current + amount

    async def ping(self) -> None:
        if self._closed:
            raise Unavailable("cache: closed")

    async def close(self) -> None:
        self._closed = True
        self._values.clear()


class Subscription:
    """Messages for one subscriber. A slow reader loses the oldest messages, never blocks the
    publisher; ``dropped`` counts what it lost."""

    _END = object()

    def __init__(self, maxsize: int) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize)
        self.dropped = 0

    def _offer(self, item: object) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()
                self.dropped += 1

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> bytes:
        item = await self._queue.get()
        if item is Subscription._END:
            self._offer(item)  # keep ending for anyone iterating again
            raise StopAsyncIteration
        assert isinstance(item, bytes)
        return item


class MemoryBus:
    """Pub/sub inside one process. Each subscriber has its own bounded queue, so one slow
    consumer (a stalled WebSocket) cannot hold up delivery to the others or grow memory."""

    name = "bus"

    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self._channels: dict[str, set[Subscription]] = {}
        self._closed = False

    async def publish(self, channel: str, message: bytes) -> None:
        if self._closed:
            raise Unavailable("bus: closed")
        for subscription in self._channels.get(channel, ()):
            subscription._offer(bytes(message))

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        if self._closed:
            raise Unavailable("bus: closed")
        subscription = Subscription(self.queue_size)
        self._channels.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscription._offer(Subscription._END)  # iterating after the context ends stops
            members = self._channels.get(channel)
            if members is not None:
                members.discard(subscription)
                if not members:
                    del self._channels[channel]

    async def ping(self) -> None:
        if self._closed:
            raise Unavailable("bus: closed")

    async def close(self) -> None:
        """End every subscriber's iteration so request handlers can finish."""
        self._closed = True
        for members in self._channels.values():
            for subscription in members:
                subscription._offer(Subscription._END)


@dataclass
class _Job:
    name: str
    kwargs: dict[str, Any]
    status: JobStatus = "queued"
    result: Any = None
    error: BaseException | None = None
    finished_at: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class MemoryJobQueue:
    """Runs registered coroutines as asyncio tasks, at most ``concurrency`` at a time.

    Jobs receive ``ctx`` (given with :meth:`set_context`, plus ``job_id``) then their keyword
    arguments, like arq jobs do. Finished jobs are remembered for ``keep_result`` seconds so their
    ids keep deduplicating and their results stay readable, as in arq.
    """

    name = "jobs"

    def __init__(
        self, jobs: JobRegistry, *, concurrency: int = 8, keep_result: float = 3600.0
    ) -> None:
        self._functions = dict(jobs)
        self._limit = asyncio.Semaphore(concurrency)
        self.keep_result = keep_result
        self._ctx: dict[str, Any] = {}
        self._jobs: dict[str, _Job] = {}
        self._closed = False

    def set_context(self, ctx: dict[str, Any]) -> None:
        """The context every job receives (``ctx["services"]`` once the app has started)."""
        self._ctx = dict(ctx)

    async def enqueue(
        self,
        name: str,
        *,
        job_id: str | None = None,
        delay: timedelta | None = None,
        **kwargs: Any,
    ) -> str | None:
        if self._closed:
            raise Unavailable("jobs: closed")
        check_job_name(self._functions, name)
        self._forget_old()
        job_id = job_id or uuid.uuid4().hex
        if job_id in self._jobs:
            return None
        job = _Job(name=name, kwargs=kwargs)
        self._jobs[job_id] = job
        seconds = max(delay.total_seconds(), 0.0) if delay else 0.0
        job.task = asyncio.create_task(self._run(job_id, job, seconds), name=f"job:{name}")
        return job_id

    async def _run(self, job_id: str, job: _Job, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            async with self._limit:
                job.status = "in_progress"
                ctx = {**self._ctx, "job_id": job_id, "job_try": 1}
                job.result = await self._functions[job.name](ctx, **job.kwargs)
                job.status = "complete"
        except asyncio.CancelledError as error:
            job.status, job.error = "failed", error
            raise
        except Exception as error:  # the job's failure is its result, re-raised by result()
            job.status, job.error = "failed", error
        finally:
            job.finished_at = time.monotonic()
            job.done.set()

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - self.keep_result
        for job_id in [
            jid
            for jid, job in self._jobs.items()
            if job.finished_at is not None and job.finished_at < cutoff
        ]:
            del self._jobs[job_id]

    async def status(self, job_id: str) -> JobStatus:
        self._forget_old()
        job = self._jobs.get(job_id)
        return "not_found" if job is None else job.status

    async def result(self, job_id: str, timeout: float = 10.0) -> Any:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} does not exist (or its result has expired)")
        await asyncio.wait_for(job.done.wait(), timeout)
        if job.error is not None:
            raise job.error
        return job.result

    async def ping(self) -> None:
        if self._closed:
            raise Unavailable("jobs: closed")

    async def close(self) -> None:
        """Cancel queued and running jobs; an in-process queue cannot hand them to anyone."""
        self._closed = True
        tasks = [job.task for job in self._jobs.values() if job.task and not job.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
