"""The event: one append-only record of something that happened during an attempt.

Observations, violations, browser telemetry and proctor actions are all events. Both event-log
backends store exactly these fields, so a query gives the same answer on SQLite and MongoDB.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def new_event_id() -> str:
    """A sortable unique id: 48-bit millisecond time then 80 random bits (ULID layout, hex)."""
    millis = int(time.time() * 1000)
    return f"{millis:012x}{os.urandom(10).hex()}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """One event. ``ts`` is always timezone-aware UTC with millisecond precision."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_event_id, min_length=1, max_length=64)
    ts: datetime = Field(default_factory=utcnow)
    kind: str = Field(min_length=1, max_length=64, description="e.g. violation.no_face")
    attempt_id: str | None = Field(None, max_length=64)
    source: str = Field("core", max_length=64, description="the plugin or part that wrote it")
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("ts")
    @classmethod
    def _utc_millis(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("ts must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
