"""Background jobs on Redis with arq: the queue the app enqueues to, and the worker loop.

arq was chosen over a home-made queue because it already does what the port promises: job ids that
deduplicate, deferred jobs, results (and exceptions) kept for a while, and retries after a worker
dies. Function names in arq are the names jobs are registered under.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta
from typing import Any, cast

from arq.connections import ArqRedis
from arq.jobs import Job, ResultNotFound
from arq.jobs import JobStatus as ArqStatus
from arq.worker import Worker, func
from redis.exceptions import RedisError

from core.errors import InvalidInput, NotFound
from core.ports import JobRegistry, JobStatus
from storage.broker import check_job_name
from storage.broker.redis import CONNECT_TIMEOUT, guard, redis_pool

DEFAULT_QUEUE = "invigilator:jobs"

_STATUS: dict[ArqStatus, JobStatus] = {
    ArqStatus.deferred: "queued",
    ArqStatus.queued: "queued",
    ArqStatus.in_progress: "in_progress",
    ArqStatus.complete: "complete",
    ArqStatus.not_found: "not_found",
}


class ArqJobQueue:
    """Enqueues jobs for arq workers (:func:`run_worker`). The registry is needed here only to
    reject unknown names early; the functions themselves run in the worker processes."""

    name = "jobs"

    def __init__(self, url: str, jobs: JobRegistry, *, queue_name: str = DEFAULT_QUEUE) -> None:
        self._names = frozenset(jobs)
        self.queue_name = queue_name
        self._redis = ArqRedis(
            redis_pool(url, command_timeout=CONNECT_TIMEOUT), default_queue_name=queue_name
        )
        self._closed = False

    def set_context(self, ctx: dict[str, Any]) -> None:
        """Accepted for symmetry with the in-process queue; arq jobs get their context from the
        worker process (see :func:`run_worker`)."""

    async def enqueue(
        self,
        name: str,
        *,
        job_id: str | None = None,
        delay: timedelta | None = None,
        **kwargs: Any,
    ) -> str | None:
        check_job_name(self._names, name)
        job = await guard(
            "jobs",
            self._redis.enqueue_job(
                name, _job_id=job_id or uuid.uuid4().hex, _defer_by=delay, **kwargs
            ),
        )
        return None if job is None else job.job_id

    def _job(self, job_id: str) -> Job:
        return Job(job_id, self._redis, _queue_name=self.queue_name)

    async def status(self, job_id: str) -> JobStatus:
        job = self._job(job_id)
        status = _STATUS[await guard("jobs", job.status())]
        if status == "complete":
            info = await guard("jobs", job.result_info())
            if info is not None and not info.success:
                return "failed"
        return status

    async def result(self, job_id: str, timeout: float = 10.0) -> Any:
        try:
            return await guard("jobs", self._job(job_id).result(timeout, poll_delay=0.05))
        except ResultNotFound:
            raise NotFound(f"job {job_id!r} does not exist (or its result has expired)") from None

    async def ping(self) -> None:
        await guard("jobs", self._redis.ping())

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._redis.aclose(close_connection_pool=True)


async def run_worker(
    redis_url: str,
    jobs: JobRegistry,
    ctx: dict[str, Any],
    concurrency: int,
    burst: bool = False,
    *,
    queue_name: str = DEFAULT_QUEUE,
    poll_delay: float = 0.5,
    job_timeout: float = 300.0,
    keep_result: float = 3600.0,
    handle_signals: bool = True,
) -> None:
    """Run an arq worker for ``jobs`` until cancelled, a signal arrives, or (``burst``) the queue
    is empty. Jobs receive arq's ctx merged with ``ctx`` (so ``ctx["services"]`` is there)."""
    if not jobs:
        raise InvalidInput("a worker needs at least one registered job")
    functions = [func(cast(Any, function), name=name) for name, function in jobs.items()]
    redis = ArqRedis(redis_pool(redis_url, command_timeout=None), default_queue_name=queue_name)
    worker = Worker(
        functions=functions,
        queue_name=queue_name,
        redis_pool=redis,
        burst=burst,
        max_jobs=concurrency,
        ctx=dict(ctx),
        handle_signals=handle_signals,
        poll_delay=poll_delay,
        job_timeout=job_timeout,
        keep_result=keep_result,
    )
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is None or task.cancelling() == 0:
            return  # a signal stopped arq's main task: a normal shutdown
        raise
    finally:
        await _stop(worker, redis)


async def _stop(worker: Worker, redis: ArqRedis) -> None:
    """Cancel unfinished jobs (arq runs them again once their in-progress mark expires) and
    release the connection. This replaces arq's ``Worker.close``, which re-raises the
    cancellations it causes and uses a deprecated redis call."""
    tasks = [task for task in worker.tasks.values() if not task.done()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    worker.tasks.clear()
    with contextlib.suppress(RedisError, OSError):
        await redis.delete(worker.health_check_key)
    with contextlib.suppress(RedisError, OSError):
        await redis.aclose(close_connection_pool=True)
