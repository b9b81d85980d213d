"""The notifications clock: reminders, retries and digests read the time through :func:`now`,
so tests move time by replacing this one function instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, timezone-aware UTC (tests replace this function)."""
    return datetime.now(UTC)
