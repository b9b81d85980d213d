"""Notification tables: the delivery history, in-app inboxes, preferences, webhooks, schedules.

``notify_messages`` is both the queue and the history: a row is written ``queued`` (already
rendered, so a retry needs nothing but the row) and a delivery job moves it to ``sent``,
``failed`` or back to ``queued`` with a later ``next_attempt_at``. Rows left ``queued`` by a
process that died are found again by the sweeper, so a restart loses nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

STATUSES = ("queued", "sent", "failed", "skipped")
CHANNELS = ("email", "sms", "inapp", "webhook")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _at(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class NotifyMessage(SQLModel, table=True):
    """One message to one recipient on one channel, and what became of it."""

    __tablename__ = "notify_messages"
    __table_args__ = (Index("ix_notify_messages_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    event: str = Field(max_length=64, index=True)
    category: str = Field(max_length=32)
    channel: str = Field(max_length=12, index=True, description="email | sms | inapp | webhook")
    recipient: str = Field(max_length=2048, description="address, number, user id or URL")
    user_id: int | None = Field(default=None, index=True)
    webhook_id: int | None = None
    template: str = Field(default="", max_length=64)
    language: str = Field(default="en", max_length=16)
    subject: str = Field(default="", max_length=300)
    body_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    body_html: str = Field(default="", sa_column=Column(Text, nullable=False))
    link: str = Field(default="", max_length=2048)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="queued", max_length=12, description="queued|sent|failed|skipped")
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = _at(nullable=True)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False))
    provider_id: str = Field(default="", max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    sent_at: datetime | None = _at(nullable=True)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class NotifyInbox(SQLModel, table=True):
    """An in-app notification: what the bell counts until it is read."""

    __tablename__ = "notify_inbox"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True)
    title: str = Field(max_length=300)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    link: str = Field(default="", max_length=2048)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    read_at: datetime | None = _at(nullable=True)


class NotifyPreference(SQLModel, table=True):
    """A person's choices: language, SMS number and the channels switched off per category."""

    __tablename__ = "notify_preferences"

    user_id: int = Field(primary_key=True)
    language: str = Field(default="", max_length=16)
    phone: str = Field(default="", max_length=32)
    opt_outs: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description='"category:channel" pairs the person switched off',
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class NotifyWebhook(SQLModel, table=True):
    """An outgoing webhook an administrator registered."""

    __tablename__ = "notify_webhooks"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2048)
    secret: str = Field(max_length=128)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    consecutive_failures: int = 0
    disabled_reason: str = Field(default="", max_length=300)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class NotifyScheduled(SQLModel, table=True):
    """A reminder due at ``fire_at``, for the exam window that opened at ``opens_at``.

    Keeping the window it was computed for lets the sweeper drop a reminder whose exam was
    rescheduled since (its ``opens_at`` no longer matches), so nobody gets a stale time.
    """

    __tablename__ = "notify_scheduled"
    __table_args__ = (UniqueConstraint("exam_id", "user_id", "offset_minutes", "opens_at"),)

    id: int | None = Field(default=None, primary_key=True)
    exam_id: int = Field(index=True)
    user_id: int
    offset_minutes: int
    opens_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    fire_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    status: str = Field(default="pending", max_length=12, description="pending|sent|stale")


class NotifyDigestItem(SQLModel, table=True):
    """A violation alert held for the next digest (digest mode)."""

    __tablename__ = "notify_digest_items"

    id: int | None = Field(default=None, primary_key=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    sent_at: datetime | None = _at(nullable=True)
