"""The judge's one table: every run of a candidate's code, sample runs and final grading alike.

A row is the unit of work *and* its record. Workers claim a row with a conditional UPDATE that
sets a lease (owner + expiry); a worker that dies mid-run leaves a lease that simply expires,
and the row is claimed again. The verdict is written by a conditional UPDATE that only matches
a row not yet ``done``, so however many workers ran it, exactly one verdict lands.

Final runs (grading a submitted answer) carry ``slot = "final"`` and are unique per
(attempt, item, code hash, slot): a grading job retried after a crash finds the row it created
and reuses its verdict instead of running (and possibly scoring) the code again. Sample runs
use their own id as ``slot``, so a candidate may run the same code twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

SAMPLE_RUN = "sample_run"
FINAL = "final"
FINAL_SLOT = "final"

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


def utcnow() -> datetime:
    return datetime.now(UTC)


class JudgeSubmission(SQLModel, table=True):
    __tablename__ = "judge_submissions"
    __table_args__ = (
        UniqueConstraint(
            "attempt_id", "item", "code_sha256", "slot", name="uq_judge_submissions_once"
        ),
    )

    id: str = Field(primary_key=True, max_length=32)
    attempt_id: str = Field(max_length=32, index=True)
    item: int
    kind: str = Field(max_length=12, description="sample_run | final")
    slot: str = Field(max_length=32, description="'final', or the row's id for sample runs")
    user_id: int | None = Field(default=None, description="the candidate whose code it is")
    version_id: int = Field(description="the question version whose tests are run")
    language: str = Field(max_length=20)
    code_sha256: str = Field(max_length=64, description="sha256 of language NUL code")
    code: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=QUEUED, max_length=12, index=True)
    verdict: str | None = Field(default=None, max_length=20)
    share: float | None = None
    results: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: str = Field(default="", max_length=500)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    tries: int = 0
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
