"""Password-reset tokens and the outbox their links are mailed from.

A token is 32 random bytes shown once (in the link) and stored only as its SHA-256, so a copy
of the database cannot be used to take over accounts. The same token serves an invitation (a
new account without a password) and a forgotten password; only the lifetime differs.

Mail is not sent from a request: the message is written as an RFC 5322 file to the blob store
under ``outbox/``, where a mailer (a plugin, a cron job, an operator in development) picks it
up. Those files carry live links, so a mailer must delete each one once it is sent.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTPUTF8
from email.utils import format_datetime, make_msgid
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.services import Services
from plugins.accounts.tables import PasswordResetToken

INVITATION_LIFETIME = timedelta(hours=72)
"""An invitation waits for a person to read their mail, so it lives longer than a reset link
(``reset_token_minutes``) but still expires (ASVS 2.3.1)."""

OUTBOX_PREFIX = "outbox/"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def create_reset_token(db: AsyncSession, *, user_id: int, lifetime: timedelta) -> str:
    """Add a token row to ``db`` (the caller commits) and return the raw token for the link."""
    raw = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    db.add(
        PasswordResetToken(
            user_id=user_id,
            token_hash=hash_token(raw),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return raw


async def redeem_reset_token(db: AsyncSession, raw: str) -> int | None:
    """Spend a token in the caller's transaction; the user id, or None when unknown, expired or
    already used. The conditional UPDATE makes two concurrent redemptions succeed only once."""
    now = datetime.now(UTC)
    token_hash = hash_token(raw)
    row = (
        await db.execute(
            select(PasswordResetToken).where(col(PasswordResetToken.token_hash) == token_hash)
        )
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    spent = await db.execute(
        update(PasswordResetToken)
        .where(col(PasswordResetToken.id) == row.id, col(PasswordResetToken.used_at).is_(None))
        .values(used_at=now)
    )
    return row.user_id if getattr(spent, "rowcount", 0) == 1 else None


def reset_link(services: Services, raw: str) -> str:
    return f"{services.settings.effective_public_url}/reset?{urlencode({'token': raw})}"


def _sender_domain(services: Services) -> str:
    host = urlsplit(services.settings.effective_public_url).hostname or ""
    return host if "." in host and not host.replace(".", "").isdigit() else "localhost"


def build_message(
    services: Services, *, to_email: str, to_name: str, subject: str, body: str
) -> EmailMessage:
    """An RFC 5322 message (RFC 6532 UTF-8 headers, as internationalised addresses need);
    header values go through the e-mail package, which refuses line breaks, never pasted."""
    local, _, domain = to_email.rpartition("@")
    message = EmailMessage(policy=SMTPUTF8)
    message["From"] = Address("Invigilator", "no-reply", _sender_domain(services))
    message["To"] = Address(to_name, local, domain)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=_sender_domain(services))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


async def write_outbox(services: Services, message: EmailMessage) -> str:
    """Store the message under ``outbox/<UTC timestamp>-<random>.eml``; returns the key."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    key = f"{OUTBOX_PREFIX}{stamp}-{secrets.token_hex(8)}.eml"
    await services.blobs.put(key, message.as_bytes(), "message/rfc822")
    return key


def invitation_message(
    services: Services, *, email: str, display_name: str, raw_token: str
) -> EmailMessage:
    hours = int(INVITATION_LIFETIME.total_seconds() // 3600)
    body = (
        f"Hello {display_name},\n\n"
        "An account has been created for you on Invigilator. Choose your password here:\n\n"
        f"{reset_link(services, raw_token)}\n\n"
        f"The link works once and expires in {hours} hours. If you did not expect this "
        "message, you can ignore it.\n"
    )
    return build_message(
        services,
        to_email=email,
        to_name=display_name,
        subject="Your Invigilator account",
        body=body,
    )
