"""Cache, pub/sub and background-job adapters: in-process for the embedded default, Redis + arq
for production. Both sets pass the same contract tests, so code written against the ports runs
unchanged in a single process or across many.
"""

from __future__ import annotations

from collections.abc import Collection

from core.errors import InvalidInput

__all__ = ["check_job_name"]


def check_job_name(registered: Collection[str], name: str) -> None:
    """Refuse unknown job names when enqueuing, not later inside a worker where nobody sees it."""
    if name not in registered:
        known = ", ".join(sorted(registered)) or "none"
        raise InvalidInput(f"unknown job {name!r} (registered: {known})")
