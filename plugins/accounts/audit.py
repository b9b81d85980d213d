"""The security audit log: one row per security-relevant event, written in the caller's
transaction so an audited change and its audit row commit (or roll back) together."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.accounts.tables import SecurityEvent
from webapp.rate_limit import request_address

# The kinds the accounts plugin writes; admins filter the audit page by these.
KINDS = (
    "login.succeeded",
    "login.failed",
    "login.throttled",
    "logout",
    "session.revoked",
    "token.refreshed",
    "token.reuse_detected",
    "password.changed",
    "password.reset_requested",
    "password.reset",
    "user.created",
    "user.updated",
    "user.role_changed",
    "user.disabled",
    "user.enabled",
    "users.imported",
    "client.created",
    "client.deleted",
    "enrollment.consented",
    "enrollment.photo_added",
    "enrollment.withdrawn",
    "enrollment.expired",
    "proctor.message",
    "proctor.warn",
    "proctor.pause",
    "proctor.resume",
    "proctor.terminate",
    "violation.reviewed",
)


def client_ip(request: web.Request | None) -> str:
    """The client address as the rate limiter sees it (trusted proxies resolved)."""
    if request is None:
        return ""
    return request_address(request)[:45]


def record(
    session: AsyncSession,
    kind: str,
    *,
    user_id: int | None = None,
    actor_id: int | None = None,
    request: web.Request | None = None,
    **details: Any,
) -> SecurityEvent:
    """Add an audit row to ``session`` (the caller commits)."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit kind {kind!r}")
    event = SecurityEvent(
        kind=kind,
        user_id=user_id,
        actor_id=actor_id,
        ip=client_ip(request),
        user_agent=(request.headers.get("User-Agent", "") if request is not None else "")[:255],
        details=details,
    )
    session.add(event)
    return event
