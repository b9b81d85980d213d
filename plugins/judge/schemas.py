"""What the judge's API accepts and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from plugins.judge.backend import Language


class LanguagesPublic(BaseModel):
    backend: str = Field(description="the configured backend's name")
    available: bool = Field(description="false while the backend cannot be reached")
    languages: list[Language]


class RunIn(BaseModel):
    language: str = Field(min_length=1, max_length=20)
    code: str = Field(max_length=200_000)


class RunPublic(BaseModel):
    """A run as the candidate sees it: hidden tests only as verdict, time and memory."""

    id: str
    attempt_id: str
    item: int
    kind: str = Field(description="sample_run | final")
    language: str
    status: str = Field(description="queued | running | done | failed")
    verdict: str | None = None
    share: float | None = Field(None, description="weighted share of tests passed, in [0, 1]")
    results: dict[str, Any] | None = Field(
        None, description="verdict, compile output and per-test results (RunResult)"
    )
    error: str = Field("", description="why the run is waiting or failed")
    tries: int = 0
    created_at: datetime
    finished_at: datetime | None = None


class SubmissionPublic(RunPublic):
    """A run as the examiner sees it: every test, hidden ones marked, and the code."""

    code: str
    code_sha256: str


class SubmissionList(BaseModel):
    items: list[SubmissionPublic]
