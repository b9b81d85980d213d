"""The ``[exams]`` table of plugins.toml.

Every value has a safe default; the intervals are floats so a test can run the background loops
quickly without the production defaults changing.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ExamsConfig(BaseModel):
    """Operator knobs for timing, outage handling and answer size."""

    sweep_interval_seconds: float = Field(
        30,
        gt=0,
        le=3600,
        description="How often every process auto-submits attempts past their deadline and "
        "grace, so nothing depends on a browser coming back or a job surviving a restart.",
    )
    heartbeat_seconds: float = Field(
        15,
        gt=0,
        le=600,
        description="How often each process records that the service is up (outage detection).",
    )
    auto_credit_outages: bool = Field(
        True,
        description="On start-up, give in-progress attempts back the time the service was down.",
    )
    outage_threshold_seconds: int = Field(
        120,
        ge=1,
        le=24 * 3600,
        description="A gap between heartbeats longer than this counts as an outage.",
    )
    max_answer_bytes: int = Field(
        256 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="Largest saved response (JSON-encoded), e.g. an essay or a program.",
    )
    max_candidates_per_exam: int = Field(
        10_000, ge=1, le=1_000_000, description="Largest candidate list one exam may have."
    )
