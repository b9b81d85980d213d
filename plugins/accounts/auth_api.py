"""The authentication API: sign in and out, refresh, the caller's own account, passwords.

Routes stay thin: the flows (throttling, single session, rotation, resets) live in
:mod:`signin`, :mod:`tokens` and :mod:`resets`, shared with the OAuth2 token endpoint
(:mod:`oauth_api`) and the session WebSocket (:mod:`live`), whose routes are appended to this
module's ``router`` so the plugin registers one router for the whole of authentication.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict, NotFound
from core.services import Services
from plugins.accounts import (
    audit,
    cookies,
    csrf,
    live,
    oauth_api,
    password_api,
    password_policy,
    sessions,
    signin,
    tokens,
)
from plugins.accounts.auth_models import (
    LoginBody,
    Me,
    MePatch,
    RefreshBody,
    RegisterBody,
    TokenResponse,
)
from plugins.accounts.authn import CsrfFailed
from plugins.accounts.config import AccountsConfig
from plugins.accounts.live import ALL_ROLES
from plugins.accounts.signin import SignInRefused
from storage.passwords import hash_password
from storage.tables.user import Role, User, UserPublic
from webapp.binding import principal_of, read_body_limited
from webapp.errors import ApiError
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/auth", tags=["authentication"])

MAX_REFRESH_BODY = 4096


def _me(req: ApiRequest, user: User) -> Me:
    principal = principal_of(req.request)
    assert principal is not None
    return Me(
        user=UserPublic.model_validate(user, from_attributes=True),
        session_id=principal.session_id or "",
        roles=sorted(principal.roles),
    )


@router.post(
    "/login",
    body=LoginBody,
    response=TokenResponse,
    errors=(ErrorSpec(401, "invalid_credentials", "wrong email or password"), signin.THROTTLED),
)
async def login(req: ApiRequest[LoginBody]) -> web.Response:
    """Sign in with email and password.

    Starts a new session and ends any other session of the account (single session). Sets
    the cookies inv_access, inv_refresh and inv_csrf. The same 401 answers an unknown email, a
    wrong password and a disabled account.
    """
    try:
        issued = await signin.sign_in_with_password(
            req.services, req.request, req.body.email, req.body.password, via="login"
        )
    except SignInRefused as error:
        raise signin.as_api_error(error) from None
    return issued.response(req.services)


async def _presented_refresh_token(request: web.Request) -> tuple[str, bool]:
    """The refresh token from the JSON body, else the cookie; and whether it came by cookie."""
    raw = await read_body_limited(request, MAX_REFRESH_BODY)
    if raw.strip():
        if request.content_type != "application/json":
            raise ApiError(415, "unsupported_media_type", "send the body as application/json")
        try:
            body = RefreshBody.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            raise ApiError(422, "validation_error", "invalid request body") from None
        if body.refresh_token:
            return body.refresh_token, False
    return request.cookies.get(cookies.REFRESH_COOKIE, ""), True


@router.post(
    "/refresh",
    response=TokenResponse,
    max_body_bytes=MAX_REFRESH_BODY,
    errors=(
        ErrorSpec(401, "invalid_refresh_token", "unknown, expired or spent refresh token"),
        ErrorSpec(403, "csrf_failed", "cookie refresh without X-CSRF-Token"),
    ),
)
async def refresh(req: ApiRequest) -> web.Response:
    """Exchange a refresh token for new tokens (rotation).

    Body `{"refresh_token": "…"}` (JSON), or no body to use the inv_refresh cookie, which then
    needs the X-CSRF-Token header. The presented token is spent; presenting a spent token again
    ends the session for everyone holding it.
    """
    presented, by_cookie = await _presented_refresh_token(req.request)
    if not presented:
        raise ApiError(401, "invalid_refresh_token", "no refresh token")
    if by_cookie:
        async with req.services.db.session() as db:
            family = await tokens.family_of(db, presented)
        secret = req.services.settings.secret()
        if family is not None and not csrf.is_valid(req.request, secret, family):
            raise CsrfFailed(f"send the {csrf.CSRF_COOKIE} cookie's value in {csrf.CSRF_HEADER}")
    try:
        issued = await signin.refresh(req.services, req.request, presented)
    except SignInRefused as error:
        raise signin.as_api_error(error) from None
    return issued.response(req.services)


@router.post("/logout", roles=ALL_ROLES, status=204)
async def logout(req: ApiRequest) -> web.Response:
    """Sign out: end every session of the account and clear the cookies."""
    principal = principal_of(req.request)
    response = web.Response(status=204, headers=signin.NO_STORE)
    if principal is not None and principal.user_id.isdigit():
        user_id = int(principal.user_id)
        async with req.services.db.session() as db:
            revoked = await sessions.revoke_user_sessions(
                db, user_id=user_id, reason="logout", request=req.request
            )
            audit.record(
                db, "logout", user_id=user_id, request=req.request, session_id=principal.session_id
            )
            await db.commit()
        await sessions.announce_revoked(
            req.services, user_id=user_id, session_ids=revoked, reason="logout"
        )
    cookies.clear_auth_cookies(response, services=req.services)
    return response


@router.get("/me", roles=ALL_ROLES, response=Me)
async def get_me(req: ApiRequest) -> Me:
    """The signed-in account, its session id and roles."""
    return _me(req, await signin.current_user(req))


@router.patch("/me", roles=ALL_ROLES, body=MePatch, response=Me)
async def patch_me(req: ApiRequest[MePatch]) -> Me:
    """Change one's own display name."""
    user = await signin.current_user(req)
    async with req.services.db.session() as db:
        user.display_name = req.body.display_name
        user.updated_at = tokens.utcnow()
        db.add(user)
        audit.record(
            db,
            "user.updated",
            user_id=user.id,
            actor_id=user.id,
            request=req.request,
            fields=["display_name"],
        )
        await db.commit()
    return _me(req, user)


@router.post(
    "/register",
    body=RegisterBody,
    response=UserPublic,
    status=201,
    errors=(
        ErrorSpec(404, "not_found", "self-registration is off"),
        ErrorSpec(409, "conflict", "an account with this email exists"),
    ),
)
async def register(req: ApiRequest[RegisterBody]) -> User:
    """Create a candidate account (only when `[accounts] self_registration` is on).

    Does not sign in: the person signs in afterwards like everyone else.
    """
    if not req.services.section("accounts", AccountsConfig).self_registration:
        raise NotFound("self-registration is not enabled on this server")
    body = req.body
    value = password_policy.check_password(
        body.password, email=str(body.email), display_name=body.display_name
    )
    user = User(
        email=str(body.email).lower(),
        display_name=body.display_name,
        role=Role.CANDIDATE,
        password_hash=await asyncio.to_thread(hash_password, value),
    )
    async with req.services.db.session() as db:
        db.add(user)
        try:
            await db.flush()
            audit.record(
                db,
                "user.created",
                user_id=user.id,
                request=req.request,
                role=Role.CANDIDATE.value,
                self_registration=True,
            )
            await db.commit()
        except IntegrityError:
            await db.rollback()
            raise Conflict("an account with this email already exists") from None
    return user


async def start_live_sessions(services: Services) -> None:
    """Plugin start-up: listen for session revocations (see :mod:`live`)."""
    await live.start_live_sessions(services)


async def stop_live_sessions() -> None:
    """Plugin shutdown: close live sockets and finish background reset mails."""
    await live.stop_live_sessions()


router.endpoints.extend(
    [*password_api.router.endpoints, *oauth_api.router.endpoints, *live.router.endpoints]
)
