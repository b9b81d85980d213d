"""Sign-in flows shared by the JSON API and the OAuth2 token endpoint.

Both front doors (``/api/v1/auth/login`` and ``/api/v1/auth/token``) must throttle, audit and
start sessions identically, or the weaker one becomes the attack path; so the logic lives here
once and the routes only translate :class:`SignInRefused` into their own error formats.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from core.services import Services
from plugins.accounts import audit, cookies, csrf, password_policy, sessions, throttle, tokens
from plugins.accounts.auth_models import TokenResponse
from plugins.accounts.config import AccountsConfig
from plugins.accounts.tables import AuthSession
from storage.crud.user import get_user_by_email
from storage.passwords import hash_password, needs_rehash, verify_password
from storage.tables.user import User, UserPublic
from webapp.binding import principal_of
from webapp.errors import ApiError
from webapp.rate_limit import request_address
from webapp.routing import ApiRequest, ErrorSpec

REUSE_REASON = "refresh_token_reused"
THROTTLED = ErrorSpec(429, "too_many_attempts", "wait Retry-After seconds")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class SignInRefused(Exception):
    """``kind``: ``invalid_credentials``, ``throttled`` or ``invalid_grant`` (refresh)."""

    def __init__(self, kind: str, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after


def as_api_error(error: SignInRefused) -> ApiError:
    """The JSON API's answer to a refused sign-in (the token endpoint has its own)."""
    if error.kind == "throttled":
        seconds = error.retry_after
        headers = {"Retry-After": str(seconds)}
        return ApiError(429, "too_many_attempts", error.message, {"retry_after": seconds}, headers)
    if error.kind == "invalid_credentials":
        return ApiError(401, "invalid_credentials", "wrong email or password")
    return ApiError(401, "invalid_refresh_token", error.message)


async def current_user(req: ApiRequest) -> User:
    """The signed-in person's row; API clients (no account of their own) get 403."""
    principal = principal_of(req.request)
    if principal is None or not principal.user_id.isdigit():
        raise ApiError(403, "not_a_user", "API clients have no account of their own")
    async with req.services.db.session() as db:
        user = await db.get(User, int(principal.user_id))
    if user is None:
        raise ApiError(401, "session_ended", "the account no longer exists")
    return user


@dataclass
class Issued:
    """A signed-in session's tokens, ready to be sent as JSON and as cookies."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_seconds: int
    csrf_token: str
    session_id: str
    user: User

    def body(self) -> TokenResponse:
        return TokenResponse(
            access_token=self.access_token,
            expires_in=self.expires_in,
            refresh_token=self.refresh_token,
            csrf_token=self.csrf_token,
            user=UserPublic.model_validate(self.user, from_attributes=True),
        )

    def response(self, services: Services, *, status: int = 200) -> web.Response:
        """The TokenResponse JSON with the three cookies and ``Cache-Control: no-store``."""
        response = web.Response(
            text=self.body().model_dump_json(),
            status=status,
            content_type="application/json",
            headers=NO_STORE,
        )
        cookies.set_auth_cookies(
            response,
            services=services,
            access_token=self.access_token,
            access_seconds=self.expires_in,
            refresh_token=self.refresh_token,
            refresh_seconds=self.refresh_seconds,
            csrf_token=self.csrf_token,
        )
        return response


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(24))


async def password_matches(password_hash: str, password: str) -> bool:
    """Argon2 off the event loop; tries the NFKC form first (how passwords are set)."""
    normalised = password_policy.normalise(password)
    if await asyncio.to_thread(verify_password, password_hash, normalised):
        return True
    return normalised != password and await asyncio.to_thread(
        verify_password, password_hash, password
    )


async def check_credentials(db: AsyncSession, email: str, password: str) -> tuple[User | None, str]:
    """The account (None when unknown) and why it may not sign in ("" when it may).

    An unknown email is checked against a dummy hash so it takes as long as a wrong password:
    response time must not reveal which accounts exist.
    """
    user = await get_user_by_email(db, email=email.strip())
    if user is None:
        await password_matches(_dummy_hash(), password)
        return None, "unknown_email"
    if not await password_matches(user.password_hash, password):
        return user, "wrong_password"
    if not user.is_active:
        return user, "account_disabled"
    if needs_rehash(user.password_hash):
        normalised = password_policy.normalise(password)
        user.password_hash = await asyncio.to_thread(hash_password, normalised)
        db.add(user)
    return user, ""


def issue(services: Services, user: User, session: AuthSession, refresh: str) -> Issued:
    """Access token and CSRF token for ``session``; nothing outlives the session itself."""
    config = services.section("accounts", AccountsConfig)
    now = tokens.utcnow()
    remaining = max(1, int((session.expires_at - now).total_seconds()))
    lifetime = min(timedelta(minutes=config.access_token_minutes), timedelta(seconds=remaining))
    secret = services.settings.secret()
    access, expires_in = tokens.issue_access_token(
        secret,
        subject=str(user.id),
        roles=[str(user.role)],
        lifetime=lifetime,
        session_id=session.id,
        now=now,
    )
    return Issued(
        access_token=access,
        expires_in=expires_in,
        refresh_token=refresh,
        refresh_seconds=remaining,
        csrf_token=csrf.token_for(secret, session.id),
        session_id=session.id,
        user=user,
    )


async def open_session(
    db: AsyncSession, services: Services, user: User, request: web.Request
) -> tuple[Issued, list[str]]:
    """Start a session (ending the user's others) in the caller's transaction.

    Returns the tokens and the revoked session ids to announce after the commit.
    """
    config = services.section("accounts", AccountsConfig)
    assert user.id is not None
    session, revoked = await sessions.start_session(
        db,
        user_id=user.id,
        lifetime=timedelta(hours=config.refresh_token_hours),
        request=request,
    )
    refresh = tokens.add_refresh_token(db, session=session, now=tokens.utcnow())
    return issue(services, user, session, refresh), revoked


async def sign_in_with_password(
    services: Services, request: web.Request, email: str, password: str, *, via: str
) -> Issued:
    """Throttle, verify, start the single session, audit; raise :class:`SignInRefused`."""
    config = services.section("accounts", AccountsConfig)
    address = request_address(request)
    verdict = await throttle.check(services, config, email=email, address=address)
    if verdict is not None:
        async with services.db.session() as db:
            audit.record(
                db, "login.throttled", request=request, email=email[:254], scope=verdict.scope
            )
            await db.commit()
        message = f"too many failed sign-ins; try again in {verdict.retry_after} s"
        raise SignInRefused("throttled", message, verdict.retry_after)
    async with services.db.session() as db:
        user, reason = await check_credentials(db, email, password)
        if user is None or user.id is None or reason:
            audit.record(
                db,
                "login.failed",
                user_id=user.id if user is not None else None,
                request=request,
                email=email[:254],
                reason=reason,
                via=via,
            )
            await db.commit()
            await throttle.record_failure(services, config, email=email, address=address)
            raise SignInRefused("invalid_credentials", "wrong email or password")
        issued, revoked = await open_session(db, services, user, request)
        audit.record(
            db,
            "login.succeeded",
            user_id=user.id,
            request=request,
            session_id=issued.session_id,
            via=via,
        )
        await db.commit()
    await throttle.record_success(services, email=email)
    await sessions.announce_revoked(
        services, user_id=user.id, session_ids=revoked, reason="signed_in_elsewhere"
    )
    return issued


async def refresh(services: Services, request: web.Request, presented: str) -> Issued:
    """Rotate a refresh token; a replayed one ends its session (both holders signed out)."""
    now: datetime = tokens.utcnow()
    async with services.db.session() as db:
        rotation = await tokens.rotate_refresh_token(db, presented, now=now)
        session = rotation.session
        if rotation.reused and session is not None:
            revoked = await sessions.revoke_session(
                db,
                user_id=session.user_id,
                session_id=session.id,
                reason=REUSE_REASON,
                request=request,
            )
            audit.record(
                db,
                "token.reuse_detected",
                user_id=session.user_id,
                request=request,
                session_id=session.id,
            )
            await db.commit()
            await sessions.announce_revoked(
                services, user_id=session.user_id, session_ids=revoked, reason=REUSE_REASON
            )
            raise SignInRefused("invalid_grant", "refresh token already used; session ended")
        user = await db.get(User, session.user_id) if session is not None else None
        if rotation.token is None or session is None or user is None or not user.is_active:
            raise SignInRefused("invalid_grant", rotation.reason or "account disabled")
        audit.record(db, "token.refreshed", user_id=user.id, request=request, session_id=session.id)
        issued = issue(services, user, session, rotation.token)
        await db.commit()
    return issued
