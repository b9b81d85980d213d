"""The ``[support]`` table of plugins.toml."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SupportConfig(BaseModel):
    """How often pages look for replies, and how many tickets one person may open."""

    poll_seconds: float = Field(
        5,
        ge=1,
        le=300,
        description="How often the candidate's help panel and the staff pages ask for news. "
        "Unchanged answers are a bodiless 304, so a short interval stays cheap.",
    )
    max_new_tickets: int = Field(
        5,
        ge=1,
        le=1000,
        description="Tickets one person may open per window; more get 429 with Retry-After.",
    )
    window_minutes: int = Field(
        10, ge=1, le=24 * 60, description="The length of the ticket-opening window, in minutes."
    )
