"""Grading a submitted coding answer: one ``final`` run per (attempt, item, program).

Called through ``invigilator_grade_code`` from the ``exams.grade_attempt`` job. The final row
is created once (its unique key makes a second insert fail, and the loser reads the winner's
row), run through :func:`plugins.judge.jobs.run_submission`, and its recorded share is the
answer. A grading job retried after a crash finds the row: a recorded verdict is reused, a run
whose worker died is claimed again once its lease expires.

When the backend is unavailable this raises, so the grading job fails and the item stays
unscored; the sweeper queues grading again after a back-off. A run that failed ``max_tries``
times answers ``None``: the item goes to a person. The judge never turns its own trouble into
a zero.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from core.services import Services
from plugins.exams import store
from plugins.judge import jobs, registry
from plugins.judge.backend import JudgeUnavailable
from plugins.judge.config import JudgeConfig
from plugins.judge.service import build_request, code_hash, coding_payload, share_of
from plugins.judge.tables import DONE, FAILED, FINAL, FINAL_SLOT, JudgeSubmission

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2


class JudgeBusy(JudgeUnavailable):
    """Another worker holds the run's lease for longer than this job will wait."""


async def final_row(
    services: Services, attempt_id: str, item: int, language: str, code: str
) -> JudgeSubmission:
    """The final submission of this program for this item, created when missing."""
    digest = code_hash(language, code)
    table = JudgeSubmission
    query = select(table).where(
        col(table.attempt_id) == attempt_id,
        col(table.item) == item,
        col(table.code_sha256) == digest,
        col(table.slot) == FINAL_SLOT,
    )
    async with services.db.session() as db:
        found = (await db.execute(query)).scalars().first()
        if found is not None:
            return found
        attempt = await store.get_attempt(db, attempt_id)
        paper_item = store.paper_item(attempt, item)
        row = JudgeSubmission(
            id=uuid.uuid4().hex,
            attempt_id=attempt_id,
            item=item,
            kind=FINAL,
            slot=FINAL_SLOT,
            user_id=attempt.user_id,
            version_id=paper_item.version_id,
            language=language[:20],
            code_sha256=digest,
            code=code,
        )
        db.add(row)
        try:
            await db.commit()
        except IntegrityError:  # a racing grader created it first: use theirs
            await db.rollback()
            existing = (await db.execute(query)).scalars().first()
            if existing is None:
                raise
            return existing
        await db.refresh(row)
        return row


async def grade_code(
    services: Services,
    payload: Mapping[str, Any],
    response: Mapping[str, Any],
    attempt_id: str = "",
    item: int | None = None,
) -> float | None:
    """The share of the item's points the program earns; ``None`` leaves it to a person."""
    config = services.section("judge", JudgeConfig)
    if not config.auto_grade or payload.get("type") != "coding":
        return None
    try:
        coding = coding_payload(payload)
    except ValidationError:
        log.warning("judge: a coding question's payload is invalid; left to a person")
        return None
    if not coding.samples and not coding.hidden:
        return None  # nothing to judge by
    language, code = str(response.get("language", "")), str(response.get("code", ""))
    if not attempt_id or item is None:  # a caller outside an attempt: judge, record nothing
        if language not in coding.languages:
            return 0.0
        judge = await registry.backend(services)
        return share_of(await judge.run(build_request(coding, language, code, final=True)))
    row = await final_row(services, attempt_id, item, language, code)
    return await _graded(services, row, dict(payload), config)


async def _graded(
    services: Services, row: JudgeSubmission, payload: dict[str, Any], config: JudgeConfig
) -> float | None:
    """Run the final row (or wait for the worker that holds it) until it has an outcome."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + config.lease_seconds + POLL_SECONDS
    while True:
        if row.status == DONE:
            return row.share
        if row.status == FAILED:
            log.warning("judge: run %s failed (%s); left to a person", row.id, row.error)
            return None
        row = await jobs.run_submission(services, row.id, payload=payload)
        if row.status in (DONE, FAILED):
            continue
        if loop.time() > give_up_at:  # another worker holds it: let the sweeper retry us
            raise JudgeBusy(f"run {row.id} is held by another worker")
        await asyncio.sleep(POLL_SECONDS)
