"""Helpers for the notifications tests: reading the history, waiting for jobs to settle."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from core.services import Services
from plugins.notify.tables import NotifyMessage


async def messages(services: Services, **where: Any) -> list[NotifyMessage]:
    async with services.db.session() as db:
        query = select(NotifyMessage).order_by(col(NotifyMessage.id))
        for name, value in where.items():
            query = query.where(col(getattr(NotifyMessage, name)) == value)
        return list((await db.execute(query)).scalars())


async def settled(
    services: Services, *, expect: int = 1, tries: int = 200, **where: Any
) -> list[NotifyMessage]:
    """The matching messages once ``expect`` of them left ``queued`` (jobs run in-process)."""
    rows: list[NotifyMessage] = []
    for _ in range(tries):
        rows = await messages(services, **where)
        if len(rows) >= expect and all(r.status != "queued" for r in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"messages did not settle: {[(r.id, r.status, r.last_error) for r in rows]}"
    )
