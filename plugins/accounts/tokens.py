"""Access tokens (short-lived JWTs) and refresh tokens (random, stored hashed, rotated).

Access tokens are verified on every request without a database read, so everything that makes
one trustworthy is checked here and nowhere else: the header is inspected before the signature
so that algorithm confusion (``alg: none``, RS256 signed with a public key used as an HMAC
secret) and key-injection headers (``jku``, ``jwk``, ``kid``, ``x5u``, ``x5c``) never reach the
library; the algorithm is pinned to HS256 and every registered claim is required. Revocation is
the session check done by :mod:`plugins.accounts.authn`, not a property of the token.

Refresh tokens are opaque: 32 random bytes, of which the database keeps only the SHA-256, so a
database leak does not hand out sessions. Each one is single use; spending it returns the next
token of the same family (the session). A spent token presented again means two parties hold
it, so the whole family is revoked (see :func:`rotate_refresh_token`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from plugins.accounts.tables import AuthSession, RefreshToken
from storage.tables.user import Role

ALGORITHM = "HS256"
AUDIENCE = "invigilator"
ISSUER = "invigilator"
HEADER_TYP = "at+jwt"  # RFC 9068: tells an access token apart from any other JWT we might sign
CLAIM_TYP = "access"
LEEWAY_SECONDS = 5  # clock skew between processes; small so an expired token dies quickly
MAX_TOKEN_CHARS = 4096  # refuse to parse (and base64-decode) anything larger
CLIENT_PREFIX = "client:"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "nbf", "exp", "jti", "typ", "roles")
_ALLOWED_HEADERS = frozenset({"alg", "typ"})
_ROLES = frozenset(role.value for role in Role)


def utcnow() -> datetime:
    """The clock every accounts module reads (as ``tokens.utcnow()``), so tests can move it."""
    return datetime.now(UTC)


class TokenError(Exception):
    """A token that must not be accepted; the message says why (safe to show the caller)."""


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token asserts."""

    subject: str
    session_id: str | None
    roles: frozenset[str]
    expires_at: int
    token_id: str

    @property
    def client_id(self) -> str | None:
        """The API client's id for client-credentials tokens, None for people."""
        if self.subject.startswith(CLIENT_PREFIX):
            return self.subject.removeprefix(CLIENT_PREFIX)
        return None


def issue_access_token(
    secret: bytes,
    *,
    subject: str,
    roles: Sequence[str],
    lifetime: timedelta,
    session_id: str | None = None,
    now: datetime | None = None,
) -> tuple[str, int]:
    """Sign an access token; returns it and its lifetime in seconds (``expires_in``)."""
    issued = now or utcnow()
    iat = int(issued.timestamp())
    seconds = max(1, int(lifetime.total_seconds()))
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "roles": sorted(roles),
        "iat": iat,
        "nbf": iat,
        "exp": iat + seconds,
        "jti": secrets.token_hex(16),
        "typ": CLAIM_TYP,
    }
    if session_id is not None:
        claims["sid"] = session_id
    token = jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"typ": HEADER_TYP})
    return token, seconds


def _check_header(token: str) -> None:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError("malformed token") from None
    unexpected = set(header) - _ALLOWED_HEADERS
    if unexpected:
        raise TokenError(f"token header may not contain {', '.join(sorted(unexpected))}")
    if header.get("alg") != ALGORITHM:
        raise TokenError(f"token algorithm must be {ALGORITHM}")
    if header.get("typ") != HEADER_TYP:
        raise TokenError(f"token type must be {HEADER_TYP}")


def verify_access_token(secret: bytes, token: str) -> AccessClaims:
    """Return the claims of a valid access token, or raise :class:`TokenError`."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise TokenError("malformed token")
    _check_header(token)
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.PyJWTError as error:
        raise TokenError(f"invalid token: {error}") from None
    return _to_claims(claims)


def _to_claims(claims: dict[str, Any]) -> AccessClaims:
    if claims.get("typ") != CLAIM_TYP:
        raise TokenError("not an access token")
    subject, roles, sid = claims["sub"], claims["roles"], claims.get("sid")
    if not isinstance(roles, list) or not all(r in _ROLES for r in roles):
        raise TokenError("invalid roles claim")
    if subject.startswith(CLIENT_PREFIX):
        if sid is not None:
            raise TokenError("client tokens carry no session")
    elif not subject.isdigit() or not isinstance(sid, str) or not sid:
        raise TokenError("token lacks a user and a session")
    return AccessClaims(
        subject=subject,
        session_id=sid,
        roles=frozenset(roles),
        expires_at=int(claims["exp"]),
        token_id=str(claims["jti"]),
    )


# Refresh tokens.


def hash_token(token: str) -> str:
    """SHA-256 hex: what the database stores for refresh and reset tokens.

    A fast hash is right here (unlike passwords): the tokens carry 256 random bits, so there is
    nothing to brute-force, and the look-up must be cheap.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_opaque_token() -> tuple[str, str]:
    """A fresh random token and its hash."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def add_refresh_token(db: AsyncSession, *, session: AuthSession, now: datetime) -> str:
    """Add the next refresh token of ``session``'s family; expires with the session."""
    token, digest = new_opaque_token()
    db.add(
        RefreshToken(
            session_id=session.id, token_hash=digest, issued_at=now, expires_at=session.expires_at
        )
    )
    return token


@dataclass
class Rotation:
    """Outcome of presenting a refresh token. ``token`` is set on success; ``reused`` means a
    spent token came back and the caller must revoke ``session_id``."""

    session: AuthSession | None = None
    token: str | None = None
    reused: bool = False
    reason: str = ""


async def rotate_refresh_token(db: AsyncSession, presented: str, *, now: datetime) -> Rotation:
    """Spend ``presented`` and add its successor, in the caller's transaction.

    Spending is a conditional update (``used_at IS NULL``), so two requests racing with the same
    token cannot both succeed, on any number of processes: the loser sees a spent token, which
    is exactly the replay case.
    """
    if not presented or len(presented) > 256:
        return Rotation(reason="malformed refresh token")
    digest = hash_token(presented)
    row = (
        (await db.execute(select(RefreshToken).where(col(RefreshToken.token_hash) == digest)))
        .scalars()
        .first()
    )
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return Rotation(reason="unknown refresh token")
    session = await db.get(AuthSession, row.session_id)
    if session is None:
        return Rotation(reason="unknown refresh token")
    if row.used_at is not None:
        return Rotation(session=session, reused=True, reason="refresh token already used")
    if row.expires_at <= now:
        return Rotation(session=session, reason="refresh token expired")
    if session.revoked_at is not None or session.expires_at <= now:
        return Rotation(session=session, reason="session ended")
    spent = await db.execute(
        update(RefreshToken)
        .where(col(RefreshToken.id) == row.id, col(RefreshToken.used_at).is_(None))
        .values(used_at=now)
    )
    if getattr(spent, "rowcount", 0) != 1:
        return Rotation(session=session, reused=True, reason="refresh token already used")
    session.last_seen_at = now
    db.add(session)
    return Rotation(session=session, token=add_refresh_token(db, session=session, now=now))


async def family_of(db: AsyncSession, presented: str) -> str | None:
    """The session a refresh token belongs to, without spending it (for the CSRF check)."""
    if not presented or len(presented) > 256:
        return None
    query = select(col(RefreshToken.session_id)).where(
        col(RefreshToken.token_hash) == hash_token(presented)
    )
    return (await db.execute(query)).scalar()
