"""The loop every process runs so that no run is lost: retries and crash recovery.

Every ``retry_seconds`` it looks for runs that nobody is working on and should be:

- ``queued`` rows whose back-off has passed (or, never started, older than one interval:
  their job was lost, say with an in-process queue that restarted);
- ``running`` rows whose lease expired (their worker died mid-run).

Sample runs are queued again as ``judge.run``; final runs re-queue the attempt's grading job
(``exams.grade_attempt``), which asks the judge again and reuses whatever is recorded. Job ids
carry the row's try count, so sweeping twice (two processes) queues each retry once. A
``running`` row whose lease expired after its last allowed try is marked ``failed``.

Like the exams sweeper, a failing tick is logged once and tried again at the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlmodel import col

from core.services import Services
from plugins.judge import jobs
from plugins.judge.config import JudgeConfig
from plugins.judge.tables import FAILED, FINAL, QUEUED, RUNNING, JudgeSubmission

log = logging.getLogger(__name__)

GRADE_JOB = "exams.grade_attempt"

_tasks: dict[int, asyncio.Task[None]] = {}


async def sweep_once(services: Services) -> int:
    """Queue every run that is due again; returns how many jobs were queued."""
    config = services.section("judge", JudgeConfig)
    at = jobs.now()
    table = JudgeSubmission
    async with services.db.session() as db:
        await db.execute(
            update(table)
            .where(
                col(table.tries) >= config.max_tries,
                or_(
                    col(table.status) == QUEUED,
                    and_(col(table.status) == RUNNING, col(table.lease_until) < at),
                ),
            )
            .values(
                status=FAILED,
                lease_owner=None,
                error=f"gave up after {config.max_tries} tries",
                finished_at=at,
            )
        )
        await db.commit()
        due = await db.execute(
            select(col(table.id), col(table.kind), col(table.attempt_id), col(table.tries)).where(
                or_(
                    and_(col(table.status) == QUEUED, col(table.lease_until) <= at),
                    and_(
                        col(table.status) == QUEUED,
                        col(table.lease_until).is_(None),
                        col(table.created_at) <= at - timedelta(seconds=config.retry_seconds),
                    ),
                    and_(col(table.status) == RUNNING, col(table.lease_until) < at),
                )
            )
        )
        rows = due.all()
    queued = 0
    for submission_id, kind, attempt_id, tries in rows:
        args: dict[str, Any]
        if kind == FINAL:
            name, job_id, args = (
                GRADE_JOB,
                f"{GRADE_JOB}:{attempt_id}:judge-{tries}",
                {"attempt_id": attempt_id},
            )
        else:
            name, job_id = jobs.RUN_JOB, f"{jobs.RUN_JOB}:{submission_id}:{tries}"
            args = {"submission_id": submission_id}
        try:
            if await services.jobs.enqueue(name, job_id=job_id, **args) is not None:
                queued += 1
        except Exception as error:  # e.g. the exams plugin is off: the other runs still go
            log.warning("judge: could not queue %s: %s", job_id, error)
    return queued


async def _loop(services: Services, interval: float) -> None:
    last_error = ""
    while True:
        try:
            await sweep_once(services)
            last_error = ""
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if str(error) != last_error:
                log.warning("judge sweeper failed (retrying every %.0f s): %s", interval, error)
                last_error = str(error)
        await asyncio.sleep(interval)


def start(services: Services) -> None:
    config = services.section("judge", JudgeConfig)
    _tasks[id(services)] = asyncio.create_task(
        _loop(services, config.retry_seconds), name="judge-sweeper"
    )


async def stop(services: Services) -> None:
    task = _tasks.pop(id(services), None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
