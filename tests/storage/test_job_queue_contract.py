"""One contract for background jobs: in-process tasks (embedded) and arq on Redis (production).

For arq the worker runs in this process (``run_worker`` in a task), so jobs can share the
module-level counters below with the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from core.errors import InvalidInput, NotFound, Unavailable
from core.ports import JobQueue, JobRegistry, JobStatus
from storage.broker.arq_jobs import ArqJobQueue, run_worker
from storage.broker.memory import MemoryJobQueue

SERVICES = "the-services-bundle"
CONCURRENCY = 2
running = {"now": 0, "max": 0}


async def add(ctx: dict[str, Any], *, a: int, b: int) -> int:
    return a + b


async def boom(ctx: dict[str, Any], *, message: str) -> None:
    raise ValueError(message)


async def context(ctx: dict[str, Any]) -> list[Any]:
    return [ctx["services"], ctx["job_id"]]


async def sleepy(ctx: dict[str, Any], *, seconds: float) -> str:
    running["now"] += 1
    running["max"] = max(running["max"], running["now"])
    try:
        await asyncio.sleep(seconds)
    finally:
        running["now"] -= 1
    return "slept"


JOBS: JobRegistry = {"add": add, "boom": boom, "context": context, "sleepy": sleepy}


@pytest.fixture(params=["embedded", "production"])
async def jobs(request: pytest.FixtureRequest) -> AsyncIterator[JobQueue]:
    running.update(now=0, max=0)
    if request.param == "embedded":
        memory = MemoryJobQueue(JOBS, concurrency=CONCURRENCY)
        memory.set_context({"services": SERVICES})
        yield memory
        await memory.close()
        return
    url: str = request.getfixturevalue("redis_url")
    queue_name = f"test-jobs-{uuid.uuid4().hex[:8]}"
    queue = ArqJobQueue(url, JOBS, queue_name=queue_name)
    worker = asyncio.create_task(
        run_worker(
            url,
            JOBS,
            {"services": SERVICES},
            CONCURRENCY,
            queue_name=queue_name,
            poll_delay=0.02,
            handle_signals=False,
        )
    )
    yield queue
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    await queue.close()


async def wait_for_status(jobs: JobQueue, job_id: str, wanted: JobStatus) -> None:
    deadline = time.monotonic() + 5
    while (status := await jobs.status(job_id)) != wanted:
        assert time.monotonic() < deadline, f"status stayed {status!r}, expected {wanted!r}"
        await asyncio.sleep(0.01)


async def test_success(jobs: JobQueue) -> None:
    job_id = await jobs.enqueue("add", a=2, b=3)
    assert isinstance(job_id, str)
    assert await jobs.result(job_id) == 5
    assert await jobs.status(job_id) == "complete"


async def test_job_receives_context_and_its_id(jobs: JobQueue) -> None:
    job_id = await jobs.enqueue("context", job_id="ctx-job")
    assert job_id == "ctx-job"
    assert await jobs.result(job_id) == [SERVICES, "ctx-job"]


async def test_failure_is_reraised(jobs: JobQueue) -> None:
    job_id = await jobs.enqueue("boom", message="exam paper missing")
    assert job_id is not None
    with pytest.raises(ValueError, match="exam paper missing"):
        await jobs.result(job_id)
    assert await jobs.status(job_id) == "failed"


async def test_same_job_id_deduplicates(jobs: JobQueue) -> None:
    assert await jobs.enqueue("sleepy", job_id="once", seconds=0.2) == "once"
    assert await jobs.enqueue("sleepy", job_id="once", seconds=0.2) is None  # queued/running
    assert await jobs.result("once") == "slept"
    assert await jobs.enqueue("sleepy", job_id="once", seconds=0.2) is None  # complete
    assert running["max"] == 1


async def test_status_moves_through_in_progress(jobs: JobQueue) -> None:
    job_id = await jobs.enqueue("sleepy", seconds=0.5)
    assert job_id is not None
    assert await jobs.status(job_id) in ("queued", "in_progress")
    await wait_for_status(jobs, job_id, "in_progress")
    await wait_for_status(jobs, job_id, "complete")


async def test_delay(jobs: JobQueue) -> None:
    started = time.monotonic()
    job_id = await jobs.enqueue("add", delay=timedelta(seconds=0.6), a=1, b=1)
    assert job_id is not None
    await asyncio.sleep(0.2)
    assert await jobs.status(job_id) == "queued"
    assert await jobs.result(job_id, timeout=5) == 2
    assert time.monotonic() - started >= 0.55


async def test_concurrency_limit(jobs: JobQueue) -> None:
    ids = [await jobs.enqueue("sleepy", seconds=0.15) for _ in range(5)]
    assert [await jobs.result(job_id) for job_id in ids if job_id] == ["slept"] * 5
    assert running["max"] == CONCURRENCY


async def test_result_timeout(jobs: JobQueue) -> None:
    job_id = await jobs.enqueue("sleepy", seconds=2)
    assert job_id is not None
    with pytest.raises(TimeoutError):
        await jobs.result(job_id, timeout=0.2)


async def test_unknown_name_and_unknown_id(jobs: JobQueue) -> None:
    with pytest.raises(InvalidInput, match="unknown job 'nope'"):
        await jobs.enqueue("nope")
    assert await jobs.status("no-such-job") == "not_found"
    with pytest.raises(NotFound):
        await jobs.result("no-such-job")


async def test_ping_and_close_twice(jobs: JobQueue) -> None:
    await jobs.ping()
    await jobs.close()
    await jobs.close()


async def test_memory_close_cancels_running_jobs() -> None:
    memory = MemoryJobQueue(JOBS)
    job_id = await memory.enqueue("sleepy", seconds=30)
    assert job_id is not None
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await memory.close()
    assert time.monotonic() - started < 1
    assert await memory.status(job_id) == "failed"
    with pytest.raises(Unavailable):
        await memory.ping()
    with pytest.raises(Unavailable):
        await memory.enqueue("add", a=1, b=2)


async def test_arq_on_closed_port_is_unavailable() -> None:
    queue = ArqJobQueue("redis://127.0.0.1:1/0", JOBS)
    try:
        with pytest.raises(Unavailable, match="unreachable"):
            await queue.ping()
        with pytest.raises(Unavailable):
            await queue.enqueue("add", a=1, b=2)
    finally:
        await queue.close()


async def test_worker_needs_jobs() -> None:
    with pytest.raises(InvalidInput):
        await run_worker("redis://127.0.0.1:1/0", {}, {}, 1)
