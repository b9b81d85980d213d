"""Violation alerts to proctors: a severity threshold, a rate limit, and an optional digest.

Proctors watch the wall; a message is for when they are not looking. Only violations at or
above ``min_severity`` are sent; at most one per attempt and kind per ``rate_limit_minutes``
(a counter in the shared cache, so every process agrees); and with ``digest_minutes`` set they
are held in ``notify_digest_items`` and sent as one summary per period instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from core.policy import SEVERITY_RANK
from core.services import Services
from plugins.notify import clock, dispatch, facts
from plugins.notify.tables import NotifyDigestItem


async def handle(services: Services, data: dict[str, Any]) -> str:
    """Decide what a ``violation.raised`` becomes: ignored, limited, held, or sent."""
    cfg = dispatch.config(services).violations
    if SEVERITY_RANK.get(str(data.get("severity")), 0) < SEVERITY_RANK[cfg.min_severity]:
        return "below_threshold"
    if cfg.rate_limit_minutes:
        key = f"notify:violation:{data.get('attempt_id')}:{data.get('kind')}"
        if await services.cache.incr(key, ttl=cfg.rate_limit_minutes * 60) > 1:
            return "rate_limited"
    async with services.db.session() as db:
        found = await facts.gather(db, "violation.raised", data)
        if cfg.digest_minutes:
            title = found.exam.title if found.exam else ""
            db.add(NotifyDigestItem(data={**data, "exam_title": title}, created_at=clock.now()))
            await db.commit()
            return "held"
    await dispatch.queue_for_users(
        services, "violation.raised", data, found.users, {"exam": found.exam_view()}
    )
    return "sent"


async def flush_digest(services: Services) -> int:
    """Send the held alerts as one summary once the oldest has waited a whole period."""
    minutes = dispatch.config(services).violations.digest_minutes
    at = clock.now()
    async with services.db.session() as db:
        items = list(
            (
                await db.execute(
                    select(NotifyDigestItem)
                    .where(col(NotifyDigestItem.sent_at).is_(None))
                    .order_by(col(NotifyDigestItem.created_at))
                )
            ).scalars()
        )
        if not items or items[0].created_at > at - timedelta(minutes=minutes):
            return 0
        ids = [i.id for i in items]
        claimed = await db.execute(
            update(NotifyDigestItem)
            .where(col(NotifyDigestItem.id).in_(ids), col(NotifyDigestItem.sent_at).is_(None))
            .values(sent_at=at)
        )
        await db.commit()
        if claimed.rowcount != len(ids):  # type: ignore[attr-defined]
            return 0  # another process is sending this digest
        people = await facts.users_by_id(db, await facts.proctors(db))
    await dispatch.queue_for_users(
        services,
        "violation.digest",
        {"count": len(items)},
        people,
        {"items": [i.data for i in items]},
    )
    return len(items)
