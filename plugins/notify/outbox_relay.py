"""Delivering the mail other plugins leave in the blob store ``outbox/`` (password resets,
invitations) once an SMTP server is configured.

The accounts plugin writes each message as an RFC 5322 file and moves on: a reset request must
not wait on, or reveal anything through, a mail server. This relay sends those files with the
same SMTP settings as every other mail, records each in the history, and moves the file to
``outbox-sent/``; a failed send leaves the file where it is for the next sweep.
"""

from __future__ import annotations

import logging
from email import message_from_bytes, policy

from core.errors import NotFound
from core.services import Services
from plugins.notify import clock, dispatch, email
from plugins.notify.errors import DeliveryError
from plugins.notify.tables import NotifyMessage

log = logging.getLogger("invigilator.notify")

OUTBOX = "outbox/"
SENT = "outbox-sent/"


async def relay(services: Services, *, limit: int = 100) -> int:
    """Send up to ``limit`` outbox mails; returns how many went out."""
    cfg = dispatch.config(services).smtp
    if not cfg.host or not cfg.relay_outbox:
        return 0
    sent = 0
    infos = [i for i in await services.blobs.list(OUTBOX) if i.key.endswith(".eml")][:limit]
    for info in infos:
        try:
            raw = await services.blobs.get(info.key)
        except NotFound:
            continue  # another process relayed it
        message = message_from_bytes(raw, policy=policy.default)
        row = NotifyMessage(
            event="outbox",
            category="security",
            channel="email",
            recipient=str(message.get("To", ""))[:2048],
            template="",
            subject=str(message.get("Subject", ""))[:300],
            attempts=1,
        )
        try:
            await email.send_message(cfg, message)
        except DeliveryError as error:
            log.warning("notify: outbox mail %s not sent: %s", info.key, error)
            continue
        row.status, row.sent_at = "sent", clock.now()
        row.provider_id = str(message.get("Message-ID", ""))[:255]
        await services.blobs.put(SENT + info.key.removeprefix(OUTBOX), raw, "message/rfc822")
        await services.blobs.delete(info.key)
        async with services.db.session() as db:
            db.add(row)
            await db.commit()
        sent += 1
    return sent
