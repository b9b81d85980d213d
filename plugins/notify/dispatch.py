"""From an event to queued messages: one row per recipient and channel, then a job per row.

Rows are rendered here and committed before any job is queued, so the history shows every
message even when the queue is down, and the sweeper (:mod:`delivery`) picks up what no job
ran. Nothing here talks to a provider: the emitting request only pays for a few inserts.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.services import Services
from plugins.notify import catalog, clock, facts, render
from plugins.notify.config import NotifyConfig
from plugins.notify.tables import NotifyMessage, NotifyPreference
from storage.tables.user import User

log = logging.getLogger("invigilator.notify")

DELIVER_JOB = "notify.deliver"
SITE_NAME = "Invigilator"


def config(services: Services) -> NotifyConfig:
    return services.section("notify", NotifyConfig)


def absolute(services: Services, path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    base = config(services).base_url or services.settings.effective_public_url
    return base.rstrip("/") + "/" + path.lstrip("/")


def channel_ready(
    services: Services, channel: str, user: User, pref: NotifyPreference | None
) -> bool:
    """Whether the channel can reach this person at all (an SMS needs a number and Twilio)."""
    if channel == "sms":
        return bool(pref and pref.phone and config(services).twilio.account_sid)
    if channel == "email":
        return bool(user.email)
    return channel == "inapp"


async def preferences(db: AsyncSession, ids: list[int]) -> dict[int, NotifyPreference]:
    if not ids:
        return {}
    rows = await db.execute(select(NotifyPreference).where(col(NotifyPreference.user_id).in_(ids)))
    return {p.user_id: p for p in rows.scalars()}


async def queue_for_users(
    services: Services,
    event: str,
    data: dict[str, Any],
    users: list[User],
    extra: dict[str, Any] | None = None,
    *,
    channels: tuple[str, ...] | None = None,
) -> list[int]:
    """Render and store the messages of ``event`` for ``users``; queue their delivery."""
    kind = catalog.KINDS[event]
    cfg = config(services)
    async with services.db.session() as db:
        prefs = await preferences(db, [u.id for u in users if u.id is not None])
        rows: list[NotifyMessage] = []
        for user in users:
            assert user.id is not None
            pref = prefs.get(user.id)
            language = (pref.language if pref else "") or cfg.default_language
            link = absolute(services, str(data.get("url") or facts.LINKS.get(event, "/")))
            context = {
                "name": user.display_name,
                "email": user.email,
                "site": SITE_NAME,
                "link": link,
                "preferences_link": absolute(services, "/notifications"),
                "data": data,
                **(extra or {}),
            }
            try:
                text = render.render(
                    event,
                    language,
                    context,
                    default=cfg.default_language,
                    override=cfg.templates_folder,
                )
            except Exception as error:  # a broken override must not lose the others
                log.exception("notify: cannot render %s for user %s", event, user.id)
                text = render.Rendered(kind.label, f"{kind.label}\n{error}", "", language)
            for channel in channels or kind.channels:
                if not channel_ready(services, channel, user, pref):
                    continue
                allowed = catalog.wanted(kind.category, channel, pref.opt_outs if pref else [])
                recipient = {"email": user.email, "sms": pref.phone if pref else ""}.get(
                    channel, str(user.id)
                )
                rows.append(
                    NotifyMessage(
                        event=event,
                        category=kind.category,
                        channel=channel,
                        recipient=recipient,
                        user_id=user.id,
                        template=event,
                        language=text.language,
                        subject=text.subject[:300],
                        body_text=text.text,
                        body_html=text.html,
                        link=link,
                        status="queued" if allowed else "skipped",
                        last_error="" if allowed else "opted out",
                        next_attempt_at=clock.now() if allowed else None,
                    )
                )
        db.add_all(rows)
        await db.commit()
        queued = [r.id for r in rows if r.status == "queued" and r.id is not None]
    await enqueue(services, queued)
    return queued


async def enqueue(services: Services, ids: list[int], attempt: int = 0) -> None:
    """Queue a delivery job per row. Best effort: the sweeper finds rows no job ran."""
    for message_id in ids:
        try:
            await services.jobs.enqueue(
                DELIVER_JOB, job_id=f"{DELIVER_JOB}:{message_id}:{attempt}", message_id=message_id
            )
        except Exception:
            log.exception("notify: could not queue message %s; the sweeper will", message_id)
