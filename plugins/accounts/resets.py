"""Forgotten passwords: mailing a reset link, and completing the reset.

The forgot-password request answers at once and does the work in the background, so neither
the answer nor its timing says whether the account exists. Tokens and the mail itself are made
by :mod:`reset_tokens` (shared with admin invitations): the message is written as an RFC 5322
file to the blob store under ``outbox/`` until a notifications plugin delivers it by SMTP.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select, update
from sqlmodel import col

from core import domain_events
from core.errors import InvigilatorError
from core.services import Services
from plugins.accounts import audit, password_policy, reset_tokens, sessions, throttle, tokens
from plugins.accounts.config import AccountsConfig
from plugins.accounts.tables import PasswordResetToken
from storage.crud.user import get_user_by_email
from storage.passwords import hash_password
from storage.tables.user import User

log = logging.getLogger("invigilator.accounts")

MAILS_PER_WINDOW = 3  # reset mails one account can be sent per throttle window


class InvalidResetToken(InvigilatorError):
    code = "invalid_reset_token"
    status = 400


async def send_reset_link(services: Services, user: User) -> str:
    """Create a reset token for ``user`` and write the mail with its link; returns the blob key."""
    minutes = services.section("accounts", AccountsConfig).reset_token_minutes
    assert user.id is not None
    async with services.db.session() as db:
        raw = await reset_tokens.create_reset_token(
            db, user_id=user.id, lifetime=timedelta(minutes=minutes)
        )
        await db.commit()
    text = (
        f"Hello {user.display_name},\n\n"
        "Someone asked to reset the password of your Invigilator account. If it was you, "
        f"choose a new password here:\n\n{reset_tokens.reset_link(services, raw)}\n\n"
        f"The link works once and expires in {minutes} minutes. If you did not ask for it, "
        "ignore this message; your password stays the same.\n"
    )
    message = reset_tokens.build_message(
        services,
        to_email=user.email,
        to_name=user.display_name,
        subject="Reset your Invigilator password",
        body=text,
    )
    return await reset_tokens.write_outbox(services, message)


JOB = "accounts.request_reset"


async def request_reset(services: Services, email: str, *, ip: str, user_agent: str) -> None:
    """Queue the forgot-password work and return at once.

    A job, not an in-process task: the answer's timing must not depend on whether the account
    exists, and with Redis the mail survives this process dying before it is written.
    """
    await services.jobs.enqueue(JOB, email=email, ip=ip, user_agent=user_agent)


async def request_reset_job(ctx: dict[str, Any], *, email: str, ip: str, user_agent: str) -> None:
    """The job behind :func:`request_reset`."""
    await _request_reset(ctx["services"], email, ip=ip, user_agent=user_agent)


async def _request_reset(services: Services, email: str, *, ip: str, user_agent: str) -> None:
    try:
        async with services.db.session() as db:
            user = await get_user_by_email(db, email=email.strip())
        if user is None or not user.is_active:
            return
        key = f"accounts:reset-mails:{tokens.hash_token(email.strip().lower())[:32]}"
        window = throttle.WINDOW_SECONDS
        if await services.cache.incr(key, ttl=window) > MAILS_PER_WINDOW:
            return  # a flood of requests must not become a flood of mail
        await send_reset_link(services, user)
        async with services.db.session() as db:
            event = audit.record(db, "password.reset_requested", user_id=user.id)
            event.ip, event.user_agent = ip[:45], user_agent[:255]
            await db.commit()
    except Exception:
        log.exception("password reset request failed")


async def reset_password(
    services: Services, token: str, new_password: str, *, request: web.Request | None = None
) -> None:
    """Spend a reset token and set the password; ends every session of the account.

    The policy is checked before the token is spent, so a rejected password can be retried
    with the same link. Spending is a conditional update, so a link works once even when two
    requests race; the account's other outstanding links are spent with it.
    """
    now = tokens.utcnow()
    digest = reset_tokens.hash_token(token)
    invalid = InvalidResetToken("this reset link is invalid, already used or expired")
    async with services.db.session() as db:
        query = select(PasswordResetToken).where(col(PasswordResetToken.token_hash) == digest)
        row = (await db.execute(query)).scalars().first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise invalid
        user = await db.get(User, row.user_id)
        if user is None or user.id is None or not user.is_active:
            raise invalid
        value = password_policy.check_password(
            new_password, email=user.email, display_name=user.display_name
        )
        if await reset_tokens.redeem_reset_token(db, token) != user.id:
            raise invalid
        await db.execute(
            update(PasswordResetToken)
            .where(col(PasswordResetToken.user_id) == user.id)
            .where(col(PasswordResetToken.used_at).is_(None))
            .values(used_at=now)
        )
        user.password_hash = await asyncio.to_thread(hash_password, value)
        user.updated_at = now
        db.add(user)
        revoked = await sessions.revoke_user_sessions(
            db, user_id=user.id, reason="password_reset", request=request
        )
        audit.record(db, "password.reset", user_id=user.id, request=request)
        await db.commit()
    await throttle.record_success(services, email=user.email)
    await sessions.announce_revoked(
        services, user_id=user.id, session_ids=revoked, reason="password_reset"
    )
    await domain_events.emit(services, "account.password_reset", {"user_id": user.id})
