"""In-app notifications: a row in the person's inbox, pushed to their open pages at once.

The row is the notification (the bell counts unread rows, so nothing is lost while no page is
open); the bus message on :data:`INBOX_CHANNEL` only makes it appear without a reload, on
whichever process holds the person's WebSocket (:mod:`live_ws`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.services import Services
from plugins.notify.errors import DeliveryError
from plugins.notify.tables import NotifyInbox, NotifyMessage

log = logging.getLogger("invigilator.notify")

INBOX_CHANNEL = "notify.inbox"
"""Payload: JSON ``{"user_id": int, "notification": {id, title, body, link, created_at}}``."""


def public(row: NotifyInbox) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "link": row.link,
        "created_at": row.created_at.isoformat(),
        "read_at": row.read_at.isoformat() if row.read_at else None,
    }


def inbox_body(text: str) -> str:
    """The mail text without its greeting: the inbox already is the person's own."""
    first, _, rest = text.strip().partition("\n\n")
    return (rest if first.startswith("Hello ") and rest else text).strip()


async def unread(db: AsyncSession, user_id: int) -> int:
    count = await db.execute(
        select(func.count())
        .select_from(NotifyInbox)
        .where(col(NotifyInbox.user_id) == user_id, col(NotifyInbox.read_at).is_(None))
    )
    return int(count.scalar_one())


async def send(services: Services, row: NotifyMessage) -> str:
    """Channel ``inapp``: store in the inbox, then announce (the announcement is best effort)."""
    if row.user_id is None:
        raise DeliveryError("an in-app notification needs a user", permanent=True)
    async with services.db.session() as db:
        item = NotifyInbox(
            user_id=row.user_id, title=row.subject, body=inbox_body(row.body_text), link=row.link
        )
        db.add(item)
        await db.commit()
        await db.refresh(item)
    message = {"user_id": row.user_id, "notification": public(item)}
    try:
        await services.bus.publish(INBOX_CHANNEL, json.dumps(message).encode())
    except Exception:
        log.exception("notify: could not announce inbox item %s", item.id)
    return f"inbox:{item.id}"
