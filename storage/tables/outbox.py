"""Writes the event log or blob store could not take yet, kept durably until they can."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, LargeBinary
from sqlalchemy.dialects import mysql
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# MySQL's BLOB stops at 64 KiB; a snapshot is larger.
Payload = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql")


def _now() -> datetime:
    return datetime.now(UTC)


class OutboxItem(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    target: str = Field(max_length=16, index=True, description="event_log | blobs")
    blob_key: str | None = Field(default=None, max_length=512)
    content_type: str | None = Field(default=None, max_length=128)
    payload: bytes = Field(sa_column=Column(Payload, nullable=False))
    attempts: int = 0
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    next_attempt_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    last_error: str | None = Field(default=None, max_length=500)
