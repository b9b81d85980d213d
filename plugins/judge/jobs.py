"""Running one submission exactly once, however many workers try: claim, run, record.

1. **Claim** with a conditional UPDATE: a row that is ``queued``, or ``running`` under a lease
   that has expired, becomes ``running`` under this worker's lease (owner + expiry) and its
   ``tries`` goes up by one. Only one of two racing workers matches; the other reads the row.
2. **Run** it on the backend. A worker that dies here leaves its lease behind; when the lease
   expires the sweeper (:mod:`plugins.judge.sweeper`) queues the run again and another worker
   claims it.
3. **Record** with a conditional UPDATE ``... WHERE status != 'done'``: the first verdict lands
   and every later one (a slow worker whose lease was taken over) matches nothing, so it reads
   and returns the recorded verdict instead. Verdicts are deterministic for the same code and
   tests, so which worker wins does not matter; that only one is recorded does.

A backend that is unavailable hands the row back (``queued`` again, with a back-off in
``lease_until``) until ``max_tries``, then marks it ``failed``; a failed final run leaves the
item to a person, never a zero.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import col

from core.services import Services
from plugins.exams import bank
from plugins.judge import registry
from plugins.judge.backend import JudgeUnavailable, RunResult
from plugins.judge.config import JudgeConfig
from plugins.judge.service import build_request, coding_payload, refused, share_of
from plugins.judge.tables import DONE, FAILED, FINAL, QUEUED, RUNNING, JudgeSubmission

log = logging.getLogger(__name__)

RUN_JOB = "judge.run"


def now() -> datetime:
    """The judge's clock (tests move it to expire leases)."""
    return datetime.now(UTC)


def new_owner() -> str:
    return f"worker-{uuid.uuid4().hex}"


async def load(services: Services, submission_id: str) -> JudgeSubmission:
    async with services.db.session() as db:
        row = await db.get(JudgeSubmission, submission_id)
    if row is None:
        raise LookupError(f"judge submission {submission_id} does not exist")
    return row


async def claim(services: Services, submission_id: str, owner: str) -> bool:
    """Take the run under a lease; ``False`` when it is done, failed or leased to another."""
    config = services.section("judge", JudgeConfig)
    at = now()
    table = JudgeSubmission
    async with services.db.session() as db:
        result = await db.execute(
            update(table)
            .where(
                col(table.id) == submission_id,
                col(table.tries) < config.max_tries,
                or_(
                    col(table.status) == QUEUED,
                    and_(col(table.status) == RUNNING, col(table.lease_until) < at),
                ),
            )
            .values(
                status=RUNNING,
                lease_owner=owner,
                lease_until=at + timedelta(seconds=config.lease_seconds),
                tries=col(table.tries) + 1,
            )
        )
        await db.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def record(services: Services, submission_id: str, result: RunResult) -> bool:
    """Write the verdict unless one is already there; ``True`` when this call wrote it."""
    table = JudgeSubmission
    async with services.db.session() as db:
        written = await db.execute(
            update(table)
            .where(col(table.id) == submission_id, col(table.status) != DONE)
            .values(
                status=DONE,
                verdict=result.verdict.value,
                share=share_of(result),
                results=result.model_dump(mode="json"),
                error="",
                lease_owner=None,
                lease_until=None,
                finished_at=now(),
            )
        )
        await db.commit()
    return bool(written.rowcount == 1)  # type: ignore[attr-defined]


async def release(services: Services, row: JudgeSubmission, owner: str, reason: str) -> None:
    """Hand a run back after the backend failed: queued again after a back-off, or failed
    once it has had ``max_tries``. Only the lease holder may do this."""
    config = services.section("judge", JudgeConfig)
    table = JudgeSubmission
    # A sample run gives up at once: the candidate is waiting and can press Run again.
    give_up = row.tries >= config.max_tries or row.kind != FINAL
    retry_at = now() + timedelta(seconds=config.retry_seconds * max(row.tries, 1))
    async with services.db.session() as db:
        await db.execute(
            update(table)
            .where(
                col(table.id) == row.id,
                col(table.status) == RUNNING,
                col(table.lease_owner) == owner,
            )
            .values(
                status=FAILED if give_up else QUEUED,
                lease_owner=None,
                lease_until=None if give_up else retry_at,
                error=reason[:500],
                finished_at=now() if give_up else None,
            )
        )
        await db.commit()


async def payload_of(services: Services, version_id: int) -> dict[str, Any]:
    async with services.db.session() as db:
        versions = await bank.versions(db, [version_id])
    return dict(versions[version_id].payload)


async def execute(
    services: Services, row: JudgeSubmission, payload: Mapping[str, Any] | None
) -> RunResult:
    """Run the row's code on the backend against the question's tests."""
    if payload is None:
        payload = await payload_of(services, row.version_id)
    coding = coding_payload(payload)
    if row.language not in coding.languages:
        return refused(f"{row.language!r} is not a language this question accepts")
    request = build_request(coding, row.language, row.code, final=row.kind == FINAL)
    judge = await registry.backend(services)
    return await judge.run(request)


async def run_submission(
    services: Services,
    submission_id: str,
    *,
    owner: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> JudgeSubmission:
    """Claim, run and record one submission; returns the row as it stands afterwards (done,
    or still another worker's when the claim failed). Raises :class:`JudgeUnavailable` after
    handing the row back when the backend could not run it."""
    owner = owner or new_owner()
    if not await claim(services, submission_id, owner):
        return await load(services, submission_id)
    row = await load(services, submission_id)
    try:
        result = await execute(services, row, payload)
    except JudgeUnavailable as error:
        await release(services, row, owner, str(error) or "the judge is unavailable")
        raise
    except Exception as error:  # a bug in a backend must not keep the row running forever
        log.exception("judge: run %s failed in the backend", submission_id)
        await release(services, row, owner, f"internal error: {error}")
        raise JudgeUnavailable(str(error)) from error
    if not await record(services, submission_id, result):
        log.info("judge: run %s was already recorded; kept the first verdict", submission_id)
    return await load(services, submission_id)


async def run_job(ctx: dict[str, Any], *, submission_id: str) -> str:
    """Job ``judge.run``: run one sample run; returns the row's status. An unavailable backend
    marks the run failed with the reason (the candidate may run again), so the job itself
    ends quietly."""
    services: Services = ctx["services"]
    try:
        row = await run_submission(services, submission_id)
    except JudgeUnavailable as error:
        log.warning("judge: run %s could not run: %s", submission_id, error)
        return (await load(services, submission_id)).status
    return row.status
