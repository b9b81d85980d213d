"""Who sent a request: the accounts plugin's authenticator (``invigilator_authenticator``).

Order: an ``Authorization: Bearer`` header (API clients, scripts), else the ``inv_access``
cookie (the browser pages). The token is verified (:mod:`plugins.accounts.tokens`), then the
session must still be active (a revoked session is rejected on every process within a second),
then cookie-authenticated unsafe requests must pass the CSRF check.

A problem with the credentials is reported (401 with the reason, or 403 ``csrf_failed``) only
on routes that need a signed-in user. On public routes the request simply counts as anonymous:
a stale cookie must not break the sign-in page (the page would redirect to itself), and an HTTP
client that keeps sending its expired Bearer token must still be able to refresh it.

Machine clients (client credentials) carry no session; their tokens stay valid until they
expire unless the client is disabled or deleted, which is re-checked on every request with the
same one-second cache as sessions (call :func:`forget_client` after changing a client).
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy import select
from sqlmodel import col

from core.errors import Forbidden
from core.services import Services
from plugins.accounts import csrf, sessions
from plugins.accounts.cookies import ACCESS_COOKIE
from plugins.accounts.tables import ApiClient, AuthSession
from plugins.accounts.tokens import AccessClaims, TokenError, verify_access_token
from webapp.binding import endpoint_for
from webapp.errors import ApiError
from webapp.keys import SERVICES, Principal

CLIENT_ACTIVE_SECONDS = 1.0
_ACTIVE = b"active"
_INACTIVE = b"inactive"


class CsrfFailed(Forbidden):
    """A cookie-authenticated unsafe request without the matching ``X-CSRF-Token`` header."""

    code = "csrf_failed"


def rejected(code: str, message: str, reason: str = "") -> ApiError:
    """401 with an RFC 6750 challenge; ``details.reason`` lets the page tell the person why."""
    return ApiError(
        401,
        code,
        message,
        {"reason": reason} if reason else None,
        headers={"WWW-Authenticate": 'Bearer realm="invigilator", error="invalid_token"'},
    )


def _is_protected(request: web.Request) -> bool:
    endpoint = endpoint_for(request)
    return endpoint is not None and bool(endpoint.roles)


async def authenticate(request: web.Request) -> Principal | None:
    services = request.config_dict.get(SERVICES)
    if services is None:
        return None
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return await _principal(request, services, value.strip(), by_cookie=False)
    cookie = request.cookies.get(ACCESS_COOKIE)
    if cookie:
        return await _principal(request, services, cookie, by_cookie=True)
    return None


async def _principal(
    request: web.Request, services: Services, token: str, *, by_cookie: bool
) -> Principal | None:
    protected = _is_protected(request)
    secret = services.settings.secret()
    try:
        claims = verify_access_token(secret, token)
    except TokenError as error:
        if by_cookie or not protected:
            return None
        raise rejected("invalid_token", str(error)) from None
    if claims.client_id is not None:
        return await _client_principal(services, claims, protected)
    session_id = claims.session_id or ""
    if not await sessions.is_active(services, session_id):
        if not protected:
            return None
        reason = await end_reason(services, session_id)
        raise rejected("session_ended", f"session ended: {reason}", reason)
    if by_cookie and csrf.needs_check(request) and not csrf.is_valid(request, secret, session_id):
        if not protected:
            return None
        raise CsrfFailed(f"send the {csrf.CSRF_COOKIE} cookie's value in {csrf.CSRF_HEADER}")
    return Principal(user_id=claims.subject, roles=claims.roles, session_id=session_id)


async def _client_principal(
    services: Services, claims: AccessClaims, protected: bool
) -> Principal | None:
    client_id = claims.client_id or ""
    if not await client_is_active(services, client_id):
        if not protected:
            return None
        raise rejected("invalid_token", "the API client was disabled or deleted", "client_disabled")
    return Principal(user_id=claims.subject, roles=claims.roles, session_id=None)


async def end_reason(services: Services, session_id: str) -> str:
    """Why a session is no longer usable (``signed_in_elsewhere``, ``logout``, ``expired``…)."""
    async with services.db.session() as db:
        row = await db.get(AuthSession, session_id)
    if row is None:
        return "unknown_session"
    if row.revoked_at is not None:
        return row.revoke_reason or "revoked"
    return "expired" if row.expires_at <= datetime.now(UTC) else "revoked"


def _client_key(client_id: str) -> str:
    return f"accounts:client:{client_id}"


async def client_is_active(services: Services, client_id: str) -> bool:
    """Whether an API client may still use its tokens: cache (one second), then database."""
    cached = await services.cache.get(_client_key(client_id))
    if cached is not None:
        return cached == _ACTIVE
    async with services.db.session() as db:
        query = select(col(ApiClient.is_active)).where(col(ApiClient.client_id) == client_id)
        active = bool((await db.execute(query)).scalar())
    await services.cache.set(
        _client_key(client_id), _ACTIVE if active else _INACTIVE, ttl=CLIENT_ACTIVE_SECONDS
    )
    return active


async def forget_client(services: Services, client_id: str) -> None:
    """After disabling or deleting a client: drop the cached answer so the next request of
    any process reads the database (its tokens then stop working at once)."""
    await services.cache.delete(_client_key(client_id))
