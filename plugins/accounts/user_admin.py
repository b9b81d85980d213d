"""What creating and changing accounts means, shared by the single, bulk and CSV admin routes.

Every function works in the caller's transaction and writes its audit rows there, so a change
and its audit entry commit together or not at all. Sessions ended by a change are returned to
the caller, which announces them (cache and bus) only after the commit succeeded.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import Conflict, NotFound
from core.services import Services
from plugins.accounts import audit, reset_tokens, sessions
from storage.passwords import hash_password
from storage.tables.user import Role, User
from webapp.keys import Principal

_ID = re.compile(r"[0-9]{1,18}")

# A random 32-byte secret that is thrown away cannot be guessed whatever the hash cost, so the
# placeholder hash of an invited account uses cheap Argon2id parameters: a 1,000-row import
# must not spend minutes hashing passwords nobody will ever type.
_PLACEHOLDER_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class OwnAccount(Conflict):
    code = "own_account"


class LastAdmin(Conflict):
    code = "last_admin"


class EmailTaken(Conflict):
    code = "email_taken"


def parse_id(text: str) -> int | None:
    """A path id, or None; ``int()`` alone would accept ``" 1_0"`` and non-ASCII digits."""
    return int(text) if _ID.fullmatch(text) else None


def actor_id(principal: Principal | None) -> int | None:
    """The acting user's id for the audit log (None for a machine client or nobody)."""
    return parse_id(principal.user_id) if principal is not None else None


def placeholder_password_hash() -> str:
    """A valid Argon2id hash of a secret nobody knows: the account cannot sign in until its
    owner sets a password through the invitation link."""
    return _PLACEHOLDER_HASHER.hash(secrets.token_urlsafe(32))


async def hash_password_off_loop(password: str) -> str:
    """Argon2 takes ~0.1 s of CPU; in a thread it does not stall every other request."""
    return await asyncio.to_thread(hash_password, password)


@dataclass
class NewAccount:
    email: str
    display_name: str
    role: Role
    password_hash: str | None  # None: invite the person to choose one
    details: dict[str, object] = field(default_factory=dict)


async def existing_emails(db: AsyncSession, emails: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(emails), 500):  # keep IN lists a sane size
        chunk = [e.lower() for e in emails[start : start + 500]]
        rows = await db.execute(select(col(User.email)).where(col(User.email).in_(chunk)))
        found.update(rows.scalars())
    return found


async def add_accounts(
    services: Services,
    db: AsyncSession,
    accounts: list[NewAccount],
    *,
    actor: int | None,
    request: web.Request | None,
    via: str,
) -> tuple[list[User], list[str]]:
    """Insert users, audit ``user.created`` and write invitations for those without a password.

    Returns the users and the outbox keys written; :func:`commit_or_discard` removes those
    messages again if the transaction fails, so nobody is invited to an account that does not
    exist.
    """
    users = []
    for account in accounts:
        user = User(
            email=account.email.lower(),
            display_name=account.display_name,
            role=account.role,
            password_hash=account.password_hash or placeholder_password_hash(),
        )
        db.add(user)
        users.append(user)
    await flush_or_conflict(db)
    keys: list[str] = []
    try:
        for user, account in zip(users, accounts, strict=True):
            assert user.id is not None
            invited = account.password_hash is None
            audit.record(
                db,
                "user.created",
                user_id=user.id,
                actor_id=actor,
                request=request,
                role=str(user.role),
                via=via,
                invited=invited,
                **account.details,
            )
            if invited:
                raw = await reset_tokens.create_reset_token(
                    db, user_id=user.id, lifetime=reset_tokens.INVITATION_LIFETIME
                )
                message = reset_tokens.invitation_message(
                    services, email=user.email, display_name=user.display_name, raw_token=raw
                )
                keys.append(await reset_tokens.write_outbox(services, message))
    except BaseException:
        await discard_blobs(services, keys)
        raise
    return users, keys


async def flush_or_conflict(db: AsyncSession) -> None:
    try:
        await db.flush()
    except IntegrityError as error:
        await db.rollback()
        raise EmailTaken("an account with this email already exists") from error


async def discard_blobs(services: Services, keys: list[str]) -> None:
    for key in keys:
        await services.blobs.delete(key)


async def commit_or_discard(services: Services, db: AsyncSession, keys: list[str]) -> None:
    """Commit; if that fails, delete the blobs written for this transaction."""
    try:
        await db.commit()
    except IntegrityError as error:
        await discard_blobs(services, keys)
        raise EmailTaken("an account with this email already exists") from error
    except BaseException:
        await discard_blobs(services, keys)
        raise


async def get_user(db: AsyncSession, user_id: int) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


@dataclass
class Revoked:
    """Sessions a change ended, to announce after the commit."""

    user_id: int
    session_ids: list[str]
    reason: str


async def change_user(
    db: AsyncSession,
    user: User,
    *,
    actor: int | None,
    request: web.Request | None,
    display_name: str | None = None,
    role: Role | None = None,
    is_active: bool | None = None,
) -> Revoked | None:
    """Apply one account change with its audit rows; ends the sessions when the role changes
    or the account is disabled. Refuses an admin demoting or disabling their own account, so
    the acting admin always remains and a server never ends up without one."""
    assert user.id is not None
    demoting = role is not None and role != user.role and user.role == Role.ADMIN
    disabling = is_active is False and user.is_active
    if user.id == actor and (demoting or disabling):
        raise OwnAccount(
            "you cannot demote or disable your own account; ask another admin to do it"
        )
    changed = False

    def record(kind: str, **details: object) -> None:
        audit.record(db, kind, user_id=user.id, actor_id=actor, request=request, **details)

    if display_name is not None and display_name != user.display_name:
        record("user.updated", field="display_name")
        user.display_name = display_name
        changed = True
    reason = None
    if role is not None and role != user.role:
        record("user.role_changed", old=str(user.role), new=str(role))
        user.role = role
        changed, reason = True, "role_changed"
    if is_active is not None and is_active != user.is_active:
        record("user.enabled" if is_active else "user.disabled")
        user.is_active = is_active
        changed = True
        reason = "account_disabled" if not is_active else reason
    if not changed:
        return None
    user.updated_at = datetime.now(UTC)
    db.add(user)
    if reason is None:
        return Revoked(user.id, [], "")
    ended = await sessions.revoke_user_sessions(
        db, user_id=user.id, reason=reason, request=request, actor_id=actor
    )
    return Revoked(user.id, ended, reason)


async def ensure_an_admin_remains(db: AsyncSession) -> None:
    """Last line of defence (two admins demoting each other at once): refuse a commit that
    would leave no active admin."""
    await db.flush()
    query = select(func.count()).select_from(User)
    query = query.where(col(User.role) == Role.ADMIN, col(User.is_active).is_(True))
    if int((await db.execute(query)).scalar_one()) == 0:
        raise LastAdmin("this change would leave the server without an active admin")


async def announce(services: Services, revoked: list[Revoked]) -> None:
    for item in revoked:
        if item.session_ids:
            await sessions.announce_revoked(
                services, user_id=item.user_id, session_ids=item.session_ids, reason=item.reason
            )
