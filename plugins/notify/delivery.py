"""Sending a queued message, retrying with backoff, and the sweeper that makes it restart-safe.

A delivery claims its row with a compare-and-swap on ``attempts`` (and pushes
``next_attempt_at`` a lease ahead), so a job and the sweeper racing for the same row send it
once. A temporary failure puts the row back to ``queued`` with ``next_attempt_at`` doubled
each time; a permanent one, or the last allowed try, marks it ``failed`` with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from core.services import Services
from plugins.notify import clock, dispatch, email, inapp, sms, webhooks
from plugins.notify.errors import DeliveryError
from plugins.notify.tables import NotifyMessage

log = logging.getLogger("invigilator.notify")

LEASE = timedelta(minutes=5)  # a send that takes longer is presumed dead and retried
Sender = Callable[[Services, NotifyMessage], Awaitable[str]]
SENDERS: dict[str, Sender] = {
    "email": email.send,
    "sms": sms.send,
    "inapp": inapp.send,
    "webhook": webhooks.send,
}


def backoff(services: Services, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: base * 2^(attempts-1), capped."""
    policy = dispatch.config(services).retry
    seconds = min(policy.backoff_seconds * 2 ** max(attempts - 1, 0), policy.max_backoff_seconds)
    return timedelta(seconds=seconds)


async def _claim(services: Services, message_id: int) -> NotifyMessage | None:
    at = clock.now()
    async with services.db.session() as db:
        row = await db.get(NotifyMessage, message_id)
        if row is None or row.status != "queued":
            return None
        if row.next_attempt_at is not None and row.next_attempt_at > at:
            return None
        claimed = await db.execute(
            update(NotifyMessage)
            .where(
                col(NotifyMessage.id) == message_id,
                col(NotifyMessage.status) == "queued",
                col(NotifyMessage.attempts) == row.attempts,
            )
            .values(attempts=row.attempts + 1, next_attempt_at=at + LEASE, updated_at=at)
        )
        await db.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        await db.refresh(row)
        return row


async def deliver(services: Services, message_id: int) -> str:
    """Try to send one message now; returns its status afterwards."""
    row = await _claim(services, message_id)
    if row is None:
        return "not_due"
    sender = SENDERS.get(row.channel)
    changes: dict[str, Any]
    try:
        if sender is None:
            raise DeliveryError(f"unknown channel {row.channel}", permanent=True)
        provider_id = await sender(services, row)
        changes = {
            "status": "sent",
            "provider_id": provider_id[:255],
            "sent_at": clock.now(),
            "next_attempt_at": None,
            "last_error": "",
        }
    except Exception as error:
        permanent = isinstance(error, DeliveryError) and error.permanent
        reason = str(error) or type(error).__name__
        retry_after = error.retry_after if isinstance(error, DeliveryError) else None
        last = permanent or row.attempts >= dispatch.config(services).retry.max_attempts
        wait = backoff(services, row.attempts)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        changes = {
            "status": "failed" if last else "queued",
            "last_error": reason[:2000],
            "next_attempt_at": None if last else clock.now() + wait,
        }
        log.warning(
            "notify: %s message %s try %d failed: %s", row.channel, row.id, row.attempts, reason
        )
        if row.channel == "webhook":
            await webhooks.record_failure(services, row)
    else:
        if row.channel == "webhook":
            await webhooks.record_success(services, row)
    changes["updated_at"] = clock.now()
    async with services.db.session() as db:
        await db.execute(
            update(NotifyMessage).where(col(NotifyMessage.id) == message_id).values(**changes)
        )
        await db.commit()
    if changes["status"] == "queued":
        await _requeue(services, message_id, row.attempts, changes["next_attempt_at"] - clock.now())
    return str(changes["status"])


async def _requeue(services: Services, message_id: int, attempt: int, delay: timedelta) -> None:
    try:
        await services.jobs.enqueue(
            dispatch.DELIVER_JOB,
            job_id=f"{dispatch.DELIVER_JOB}:{message_id}:{attempt}",
            delay=max(delay, timedelta(0)),
            message_id=message_id,
        )
    except Exception:
        log.exception("notify: could not re-queue message %s; the sweeper will", message_id)


async def deliver_job(ctx: dict[str, Any], *, message_id: int) -> str:
    """Job ``notify.deliver``."""
    return await deliver(ctx["services"], message_id)


async def sweep(services: Services, *, limit: int = 200) -> int:
    """Send every queued message that is due (restart-safe; a lost job costs one sweep)."""
    async with services.db.session() as db:
        rows = await db.execute(
            select(col(NotifyMessage.id))
            .where(
                col(NotifyMessage.status) == "queued",
                col(NotifyMessage.next_attempt_at) <= clock.now(),
            )
            .order_by(col(NotifyMessage.next_attempt_at))
            .limit(limit)
        )
        due = [int(i) for i in rows.scalars() if i is not None]
    sent = 0
    for message_id in due:
        if await deliver(services, message_id) == "sent":
            sent += 1
    return sent
