"""Autosave: the path that must never lose an acknowledged answer.

Its write is one short transaction whose every condition is checked by the database, not by
Python:

1. ``UPDATE attempts SET status = status WHERE id = ? AND status = 'in_progress' AND
   paused_at IS NULL AND deadline_at >= now - grace``: refuses a closed, paused or late attempt
   atomically and takes the attempt's row lock, so a submit (which updates the same row) waits
   for a save in flight and a save never lands after the answers were graded.
2. ``UPDATE answers SET ... WHERE attempt_id = ? AND item = ? AND seq < ?``: the conditional
   update; an older or repeated ``seq`` changes nothing.
3. No row matched: either the answer does not exist yet (insert it; a unique-constraint race
   with a parallel first save is retried from step 1) or the stored ``seq`` is not older
   (``409 stale_answer`` with the stored seq).

200 is answered only after the commit. On MySQL the transaction runs at READ COMMITTED, so
step 2 on a missing row takes no gap lock that could deadlock first saves of neighbouring
attempts (the 200-candidate test on MariaDB deadlocks without it); lock waits and deadlocks
that still happen are retried a few times.

Sequential navigation is checked inside the same transaction: saving item k needs a stored
answer for every item before k, where saving a blank response is the explicit skip.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.services import Services
from plugins.exams import bank, clock, store
from plugins.exams.config import ExamsConfig
from plugins.exams.errors import (
    PAUSED_MESSAGE,
    AnswerTooLarge,
    AttemptClosed,
    AttemptPaused,
    InvalidAnswer,
    ResponseInvalid,
    SequenceRequired,
    StaleAnswer,
)
from plugins.exams.papers import PaperItem
from plugins.exams.tables import Answer, Attempt
from plugins.questions.payloads import RESPONSE_MODELS

log = logging.getLogger(__name__)

WRITE_TRIES = 5
RETRYABLE_MYSQL_ERRORS = frozenset({1205, 1213})  # lock wait timeout, deadlock


@dataclass(frozen=True)
class SavedAnswer:
    item: int
    seq: int
    saved_at: datetime


def validate_response(
    item: PaperItem, payload: dict[str, Any], response: dict[str, Any], max_bytes: int
) -> dict[str, Any]:
    """The response normalised by its type's model, or 422/413 saying what is wrong."""
    model = RESPONSE_MODELS.get(item.type)
    if model is None:
        raise InvalidAnswer(f"items of type {item.type} cannot be answered")
    try:
        clean = model.model_validate(response).model_dump(mode="json")
    except ValidationError as error:
        details = [
            {"loc": ["body", "response", *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in error.errors(include_url=False, include_input=False, include_context=False)
        ]
        raise ResponseInvalid(f"not a valid {item.type} response", details=details) from None
    if item.option_order is not None:
        selected = clean.get("selected", [])
        unknown = sorted(set(selected) - set(item.option_order))
        if unknown:
            raise InvalidAnswer(f"unknown option ids {unknown}", details={"unknown": unknown})
        if len(set(selected)) != len(selected):
            raise InvalidAnswer("an option is selected twice")
        if item.type == "single_choice" and len(selected) > 1:
            raise InvalidAnswer("a single-choice question takes at most one option")
    if item.type == "coding" and clean["language"] not in payload.get("languages", []):
        raise InvalidAnswer(
            f"language {clean['language']!r} is not offered",
            details={"languages": payload.get("languages", [])},
        )
    size = len(json.dumps(clean, ensure_ascii=False).encode())
    if size > max_bytes:
        raise AnswerTooLarge(
            f"the answer is {size} bytes; the limit is {max_bytes}", details={"limit": max_bytes}
        )
    return clean


async def save_answer(
    services: Services,
    attempt_id: str,
    user_id: int,
    item: int,
    *,
    seq: int,
    response: dict[str, Any],
    flagged: bool,
) -> SavedAnswer:
    """Store the answer when ``seq`` is newer than the stored one; see the module docstring."""
    config = services.section("exams", ExamsConfig)
    at = clock.now()
    async with services.db.session() as db:
        attempt, exam = await store.own_attempt_and_exam(db, attempt_id, user_id)
        paper_item = store.paper_item(attempt, item)
        versions = await bank.versions(db, [paper_item.version_id])
    if attempt.status != "in_progress" or clock.attempt_due(attempt, exam, at):
        raise AttemptClosed("the attempt is closed", details={"status": attempt.status})
    if attempt.paused_at is not None:
        raise AttemptPaused(PAUSED_MESSAGE, details={"paused_at": attempt.paused_at.isoformat()})
    payload = dict(versions[paper_item.version_id].payload)
    clean = validate_response(paper_item, payload, response, config.max_answer_bytes)
    cutoff = at - timedelta(seconds=exam.grace_seconds)
    row = {
        "response": clean,
        "seq": seq,
        "flagged": flagged,
        "saved_at": at,
    }
    for attempt_number in range(WRITE_TRIES):
        try:
            async with services.db.session() as db:
                done = await _write(
                    db,
                    paper_item,
                    attempt_id=attempt_id,
                    row=row,
                    cutoff=cutoff,
                    navigation=exam.navigation,
                )
            if done:
                return SavedAnswer(item=item, seq=seq, saved_at=at)
        except OperationalError as error:
            if not _retryable(error) or attempt_number == WRITE_TRIES - 1:
                raise
            log.info("exams: save of %s/%d retried after %s", attempt_id, item, error.orig)
            await asyncio.sleep(random.uniform(0.005, 0.05) * (attempt_number + 1))  # noqa: S311
    raise StaleAnswer("the answer changed while saving; resend it")  # pragma: no cover


def _retryable(error: OperationalError) -> bool:
    code = error.orig.args[0] if error.orig is not None and error.orig.args else None
    return code in RETRYABLE_MYSQL_ERRORS or "database is locked" in str(error.orig)


async def _write(
    db: AsyncSession,
    item: PaperItem,
    *,
    attempt_id: str,
    row: dict[str, Any],
    cutoff: datetime,
    navigation: str,
) -> bool:
    """One try of the save transaction; ``False`` asks the caller to retry (insert race)."""
    if db.get_bind().dialect.name == "mysql":  # for this transaction only: one round trip
        await db.execute(text("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"))
    locked = await db.execute(
        update(Attempt)
        .where(
            col(Attempt.id) == attempt_id,
            col(Attempt.status) == "in_progress",
            col(Attempt.paused_at).is_(None),
            col(Attempt.deadline_at) >= cutoff,
        )
        .values(status=col(Attempt.status))
    )
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        state = (
            await db.execute(
                select(col(Attempt.status), col(Attempt.paused_at)).where(
                    col(Attempt.id) == attempt_id
                )
            )
        ).first()
        await db.rollback()
        if state is not None and state[0] == "in_progress" and state[1] is not None:
            raise AttemptPaused(PAUSED_MESSAGE)  # paused while this save was on its way
        raise AttemptClosed("the attempt is closed")
    if navigation == "sequential" and item.item > 0:
        await _check_sequence(db, attempt_id, item.item)
    this_answer = (col(Answer.attempt_id) == attempt_id, col(Answer.item) == item.item)
    updated = await db.execute(
        update(Answer).where(*this_answer, col(Answer.seq) < row["seq"]).values(**row)
    )
    if updated.rowcount == 1:  # type: ignore[attr-defined]
        await db.commit()
        return True
    stored = (await db.execute(select(col(Answer.seq)).where(*this_answer))).scalar()
    if stored is not None:
        await db.rollback()
        raise StaleAnswer(
            f"item {item.item} already has seq {stored}; send a higher seq",
            details={"seq": stored},
        )
    try:
        await db.execute(
            insert(Answer).values(
                attempt_id=attempt_id,
                item=item.item,
                question_version_id=item.version_id,
                feedback="",
                **row,
            )
        )
        await db.commit()
    except IntegrityError:  # a parallel first save of this item won; compare seqs again
        await db.rollback()
        return False
    return True


async def _check_sequence(db: AsyncSession, attempt_id: str, item: int) -> None:
    """Sequential navigation: every earlier item must have a stored answer (a blank response
    saved on purpose is the explicit skip)."""
    rows = await db.execute(
        select(col(Answer.item)).where(
            col(Answer.attempt_id) == attempt_id, col(Answer.item) < item
        )
    )
    present = set(rows.scalars())
    missing = next(i for i in range(item + 1) if i not in present)
    if missing < item:
        await db.rollback()
        raise SequenceRequired(
            f"answer or skip item {missing} first", details={"first_unanswered": missing}
        )
