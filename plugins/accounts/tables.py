"""Tables the accounts plugin owns: sessions, refresh tokens, reset tokens, API clients, the
security audit log and face enrollments. Migrations live in ``migrations/`` beside this file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class AuthSession(SQLModel, table=True):
    """One signed-in session (a login). Refresh tokens of one session form one family."""

    __tablename__ = "auth_sessions"

    id: str = Field(primary_key=True, max_length=32, description="random hex")
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id"), index=True, nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    last_seen_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    revoke_reason: str | None = Field(default=None, max_length=48)
    ip: str = Field(default="", max_length=45)
    user_agent: str = Field(default="", max_length=255)


class RefreshToken(SQLModel, table=True):
    """A refresh token, stored only as its SHA-256; single use, rotated on every refresh."""

    __tablename__ = "refresh_tokens"

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(
        sa_column=Column(String(32), ForeignKey("auth_sessions.id"), index=True, nullable=False)
    )
    token_hash: str = Field(max_length=64, unique=True, index=True)
    issued_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class PasswordResetToken(SQLModel, table=True):
    """A password-reset token, stored only as its SHA-256; single use, short-lived."""

    __tablename__ = "password_reset_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id"), index=True, nullable=False)
    )
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ApiClient(SQLModel, table=True):
    """A machine client for the OAuth2 client-credentials flow (LMS, integrations)."""

    __tablename__ = "api_clients"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True, index=True)
    secret_hash: str = Field(max_length=255)
    name: str = Field(max_length=120)
    roles: str = Field(default="", max_length=255, description="comma-separated roles")
    is_active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class SecurityEvent(SQLModel, table=True):
    """The audit log: logins, failures, resets, role changes, session revocations, consent."""

    __tablename__ = "security_events"

    id: int | None = Field(default=None, primary_key=True)
    ts: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    kind: str = Field(max_length=48, index=True)
    user_id: int | None = Field(default=None, index=True, description="whom it concerns")
    actor_id: int | None = Field(default=None, description="who did it (admins acting)")
    ip: str = Field(default="", max_length=45)
    user_agent: str = Field(default="", max_length=255)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class FaceEnrollment(SQLModel, table=True):
    """A candidate's reference face, kept only with recorded consent and until a date."""

    __tablename__ = "face_enrollments"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id"), index=True, nullable=False)
    )
    status: str = Field(
        default="consented", max_length=16, description="consented | active | withdrawn | expired"
    )
    consent_text_version: str = Field(max_length=32)
    consent_given_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    consent_ip: str = Field(default="", max_length=45)
    retention_until: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    blob_key: str | None = Field(default=None, max_length=512)
    content_type: str | None = Field(default=None, max_length=64)
    embedding_model: str | None = Field(default=None, max_length=64)
    embedding_ref: str | None = Field(
        default=None, max_length=512, description="blob key of the stored embedding"
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    withdrawn_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
