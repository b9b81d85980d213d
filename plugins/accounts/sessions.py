"""Sessions: one per login, and at most one active per user.

A new login revokes the user's other sessions; logout, a password change or reset, a role
change and disabling an account revoke all of them. Revocation is recorded in the database
(the source of truth), written to the cache at once (so every process rejects the session's
access tokens on the next request) and published on the ``session.revoked`` bus channel (so
every process closes the live connections it holds for that session: WebSocket, WebRTC).

Validity checks read the cache first and fall back to the database; a cached "active" answer
lives :data:`ACTIVE_CACHE_SECONDS`, so even a missed cache write is corrected within a second.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.channels import SESSION_REVOKED
from core.services import Services
from plugins.accounts import audit
from plugins.accounts.tables import AuthSession

ACTIVE_CACHE_SECONDS = 1.0
_ACTIVE = b"active"
_REVOKED = b"revoked"


def _cache_key(session_id: str) -> str:
    return f"accounts:session:{session_id}"


def new_session_id() -> str:
    return secrets.token_hex(16)


async def start_session(
    db: AsyncSession,
    *,
    user_id: int,
    lifetime: timedelta,
    request: web.Request | None = None,
) -> tuple[AuthSession, list[str]]:
    """Create a session and revoke every other active one of the user (single session).

    Runs in the caller's transaction; returns the new session and the ids it revoked, which the
    caller passes to :func:`announce_revoked` after committing.
    """
    now = datetime.now(UTC)
    revoked = await _revoke_in_db(
        db, user_id=user_id, reason="signed_in_elsewhere", request=request
    )
    session = AuthSession(
        id=new_session_id(),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        ip=audit.client_ip(request),
        user_agent=(request.headers.get("User-Agent", "") if request is not None else "")[:255],
    )
    db.add(session)
    return session, revoked


async def _revoke_in_db(
    db: AsyncSession,
    *,
    user_id: int,
    reason: str,
    request: web.Request | None,
    actor_id: int | None = None,
    only: str | None = None,
) -> list[str]:
    query = select(col(AuthSession.id)).where(
        col(AuthSession.user_id) == user_id,
        col(AuthSession.revoked_at).is_(None),
    )
    if only is not None:
        query = query.where(col(AuthSession.id) == only)
    ids = list((await db.execute(query)).scalars())
    if not ids:
        return []
    await db.execute(
        update(AuthSession)
        .where(col(AuthSession.id).in_(ids))
        .values(revoked_at=datetime.now(UTC), revoke_reason=reason)
    )
    for session_id in ids:
        audit.record(
            db,
            "session.revoked",
            user_id=user_id,
            actor_id=actor_id,
            request=request,
            session_id=session_id,
            reason=reason,
        )
    return ids


async def revoke_user_sessions(
    db: AsyncSession,
    *,
    user_id: int,
    reason: str,
    request: web.Request | None = None,
    actor_id: int | None = None,
) -> list[str]:
    """Revoke every active session of a user in the caller's transaction.

    Call :func:`announce_revoked` with the result after the commit.
    """
    return await _revoke_in_db(
        db, user_id=user_id, reason=reason, request=request, actor_id=actor_id
    )


async def revoke_session(
    db: AsyncSession,
    *,
    user_id: int,
    session_id: str,
    reason: str,
    request: web.Request | None = None,
) -> list[str]:
    """Revoke one session (e.g. a refresh token family whose spent token was replayed)."""
    return await _revoke_in_db(db, user_id=user_id, reason=reason, request=request, only=session_id)


async def announce_revoked(
    services: Services, *, user_id: int, session_ids: list[str], reason: str
) -> None:
    """After commit: reject the sessions everywhere now and close their live connections."""
    lifetime = 24 * 3600.0  # longer than any access token lives
    for session_id in session_ids:
        await services.cache.set(_cache_key(session_id), _REVOKED, ttl=lifetime)
        message = {"session_id": session_id, "user_id": str(user_id), "reason": reason}
        await services.bus.publish(SESSION_REVOKED, json.dumps(message).encode())


async def is_active(services: Services, session_id: str) -> bool:
    """Whether a session may still be used: cache first, then the database."""
    cached = await services.cache.get(_cache_key(session_id))
    if cached == _REVOKED:
        return False
    if cached == _ACTIVE:
        return True
    async with services.db.session() as db:
        row = await db.get(AuthSession, session_id)
    active = row is not None and row.revoked_at is None and row.expires_at > datetime.now(UTC)
    await services.cache.set(
        _cache_key(session_id),
        _ACTIVE if active else _REVOKED,
        ttl=ACTIVE_CACHE_SECONDS if active else 24 * 3600.0,
    )
    return active
