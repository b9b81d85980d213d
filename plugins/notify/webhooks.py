"""Signed outgoing webhooks: every event, as JSON, to the endpoints an administrator registered.

Each delivery carries ``X-Invigilator-Event``, ``X-Invigilator-Delivery`` (the message id, the
same on every retry so a receiver can drop duplicates), ``X-Invigilator-Timestamp`` and
``X-Invigilator-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``. Signing
the timestamp lets a receiver refuse replays of an old delivery.

URLs that resolve to private, loopback, link-local or reserved addresses are refused unless
``[notify.webhooks] allow_private`` is on, so a webhook cannot be aimed at the internal network.
The check runs when an endpoint is saved and again before every delivery (DNS may change).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import select, update
from sqlmodel import col

from core.services import Services
from plugins.notify import clock, dispatch
from plugins.notify.errors import DeliveryError
from plugins.notify.tables import NotifyMessage, NotifyWebhook

log = logging.getLogger("invigilator.notify")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", maxsplit=1)[0])
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


async def check_url(url: str, *, allow_private: bool, resolve: bool = True) -> None:
    """Raise ``ValueError`` with the reason when ``url`` may not receive webhooks."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the URL must be http(s)://host/...")
    if allow_private or not resolve:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname,
            parts.port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM,
        )
    except OSError as error:
        raise ValueError(f"cannot resolve {parts.hostname}: {error}") from error
    for info in infos:
        if not _public(str(info[4][0])):
            raise ValueError(f"{parts.hostname} resolves to a private address ({info[4][0]})")


async def queue_for_event(services: Services, name: str, data: dict[str, Any]) -> list[int]:
    """One ``webhook`` row per active endpoint that wants ``name`` (no filter: all events)."""
    async with services.db.session() as db:
        hooks = (await db.execute(select(NotifyWebhook).where(col(NotifyWebhook.active)))).scalars()
        rows = [
            NotifyMessage(
                event=name,
                category="webhook",
                channel="webhook",
                recipient=hook.url,
                webhook_id=hook.id,
                template="",
                subject=name,
                payload={"event": name, "created_at": clock.now().isoformat(), "data": data},
                next_attempt_at=clock.now(),
            )
            for hook in hooks
            if not hook.events or name in hook.events
        ]
        db.add_all(rows)
        await db.commit()
        ids = [r.id for r in rows if r.id is not None]
    await dispatch.enqueue(services, ids)
    return ids


async def send(services: Services, row: NotifyMessage) -> str:
    """Channel ``webhook``: POST the signed JSON; a 2xx answer is a delivery."""
    cfg = dispatch.config(services).webhooks
    async with services.db.session() as db:
        hook = await db.get(NotifyWebhook, row.webhook_id) if row.webhook_id else None
    if hook is None or not hook.active:
        raise DeliveryError("the webhook endpoint was removed or disabled", permanent=True)
    try:
        await check_url(hook.url, allow_private=cfg.allow_private)
    except ValueError as error:
        raise DeliveryError(str(error), permanent=True) from error
    body = json.dumps({"id": str(row.id), **row.payload}, separators=(",", ":")).encode()
    timestamp = str(int(clock.now().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Invigilator-Webhooks/1",
        "X-Invigilator-Event": row.event,
        "X-Invigilator-Delivery": str(row.id),
        "X-Invigilator-Timestamp": timestamp,
        "X-Invigilator-Signature": sign(hook.secret, timestamp, body),
    }
    timeout = aiohttp.ClientTimeout(total=cfg.timeout_seconds)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(hook.url, data=body, headers=headers, allow_redirects=False) as response,
        ):
            if not 200 <= response.status < 300:
                raise DeliveryError(f"endpoint answered {response.status}")
    except (aiohttp.ClientError, TimeoutError) as error:
        raise DeliveryError(f"endpoint unreachable: {type(error).__name__}: {error}") from error
    return f"webhook:{hook.id}"


async def record_success(services: Services, row: NotifyMessage) -> None:
    async with services.db.session() as db:
        await db.execute(
            update(NotifyWebhook)
            .where(col(NotifyWebhook.id) == row.webhook_id)
            .values(consecutive_failures=0)
        )
        await db.commit()


async def record_failure(services: Services, row: NotifyMessage) -> None:
    """Count a failed try; past the limit the endpoint is switched off (an admin re-enables)."""
    limit = dispatch.config(services).webhooks.disable_after_failures
    async with services.db.session() as db:
        hook = await db.get(NotifyWebhook, row.webhook_id) if row.webhook_id else None
        if hook is None or not hook.active:
            return
        hook.consecutive_failures += 1
        if hook.consecutive_failures >= limit:
            hook.active = False
            hook.disabled_reason = f"{hook.consecutive_failures} failed deliveries in a row"
            log.warning("notify: webhook %s disabled after %d failures", hook.id, limit)
        db.add(hook)
        await db.commit()
