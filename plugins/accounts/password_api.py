"""Password routes: change one's own, ask for a reset link, complete a reset.

Every way of setting a password goes through the password policy and ends all of the
account's sessions, so a password change is also how a person throws out an intruder.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from plugins.accounts import audit, password_policy, resets, sessions, signin, throttle, tokens
from plugins.accounts.auth_models import (
    Accepted,
    ForgotBody,
    PasswordChange,
    ResetBody,
    TokenResponse,
)
from plugins.accounts.config import AccountsConfig
from plugins.accounts.live import ALL_ROLES
from plugins.accounts.signin import SignInRefused
from storage.passwords import hash_password
from webapp.errors import ApiError
from webapp.rate_limit import request_address
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/auth", tags=["authentication"])


@router.post(
    "/password",
    roles=ALL_ROLES,
    body=PasswordChange,
    response=TokenResponse,
    errors=(
        ErrorSpec(400, "wrong_password", "the current password is wrong"),
        ErrorSpec(422, "invalid_input", "the new password breaks the password rules"),
        signin.THROTTLED,
    ),
)
async def change_password(req: ApiRequest[PasswordChange]) -> web.Response:
    """Change one's password; ends every session and answers with tokens for a fresh one.

    Wrong current passwords count toward the account's sign-in throttling, so a stolen
    session cannot be used to guess the password.
    """
    services, request, body = req.services, req.request, req.body
    user = await signin.current_user(req)
    assert user.id is not None
    config, address = (
        services.section("accounts", AccountsConfig),
        request_address(request),
    )
    verdict = await throttle.check(services, config, email=user.email, address=address)
    if verdict is not None:
        raise signin.as_api_error(
            SignInRefused("throttled", "too many wrong passwords", verdict.retry_after)
        )
    if not await signin.password_matches(user.password_hash, body.current_password):
        await throttle.record_failure(services, config, email=user.email, address=address)
        async with services.db.session() as db:
            audit.record(
                db,
                "login.failed",
                user_id=user.id,
                request=request,
                reason="wrong_current_password",
                via="password_change",
            )
            await db.commit()
        raise ApiError(400, "wrong_password", "the current password is wrong")
    value = password_policy.check_password(
        body.new_password, email=user.email, display_name=user.display_name
    )
    async with services.db.session() as db:
        user.password_hash = await asyncio.to_thread(hash_password, value)
        user.updated_at = tokens.utcnow()
        db.add(user)
        revoked = await sessions.revoke_user_sessions(
            db, user_id=user.id, reason="password_changed", request=request
        )
        issued, _ = await signin.open_session(db, services, user, request)
        audit.record(
            db, "password.changed", user_id=user.id, request=request, session_id=issued.session_id
        )
        await db.commit()
    await throttle.record_success(services, email=user.email)
    await sessions.announce_revoked(
        services, user_id=user.id, session_ids=revoked, reason="password_changed"
    )
    return issued.response(services)


@router.post("/password/forgot", body=ForgotBody, response=Accepted, status=202)
async def forgot_password(req: ApiRequest[ForgotBody]) -> Accepted:
    """Ask for a password-reset link by mail.

    Always answers 202 with the same body, at once, whether or not the account exists; the
    link (single use, valid `reset_token_minutes`) goes to the account's address.
    """
    request = req.request
    await resets.request_reset(
        req.services,
        req.body.email,
        ip=request_address(request),
        user_agent=request.headers.get("User-Agent", ""),
    )
    return Accepted()


@router.post(
    "/password/reset",
    body=ResetBody,
    status=204,
    errors=(
        ErrorSpec(400, "invalid_reset_token", "invalid, used or expired link"),
        ErrorSpec(422, "invalid_input", "the new password breaks the password rules"),
    ),
)
async def reset_password(req: ApiRequest[ResetBody]) -> None:
    """Set a new password with a reset link's token; ends every session of the account."""
    await resets.reset_password(
        req.services, req.body.token, req.body.new_password, request=req.request
    )
