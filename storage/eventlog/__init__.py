"""Event-log adapters: an SQLite table for the embedded default and MongoDB for production.

Both keep exactly the fields of :class:`core.events.Event` and answer ``query`` identically, which
is what ``tests/storage/test_event_log_contract.py`` checks against each of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.errors import InvalidInput

__all__ = ["check_query"]


def check_query(
    limit: int, kinds: Sequence[str] | None, since: datetime | None, until: datetime | None
) -> None:
    """Reject arguments that the two backends would otherwise interpret differently."""
    if limit < 0:
        raise InvalidInput(f"limit must not be negative, got {limit}")
    if isinstance(kinds, str):
        # A bare string is a Sequence[str] too; iterating it would filter by single letters.
        raise InvalidInput("kinds must be a list of kinds, not a single string")
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} must be timezone-aware")
