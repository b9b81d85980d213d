"""Generation tables: one row per generation job, one per draft it wrote.

A draft holds bank-valid content (checked by the bank's own models when written and on every
edit) but is not a bank question until an examiner approves it; approval records the question
it became, so approving twice cannot make two questions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class GenerationJob(SQLModel, table=True):
    __tablename__ = "generation_jobs"

    id: int | None = Field(default=None, primary_key=True)
    created_by: int | None = Field(default=None)
    source_kind: str = Field(max_length=12)
    source_name: str = Field(default="", max_length=200, description="uploaded file name")
    source_hash: str = Field(max_length=64, index=True, description="sha256 of the text")
    source_text: str = Field(sa_column=Column(Text, nullable=False))
    backend: str = Field(max_length=64)
    difficulty: str = Field(default="medium", max_length=8)
    language: str = Field(default="python", max_length=20, description="of coding problems")
    counts: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="queued", max_length=12, index=True)
    total: int = Field(default=0)
    done: int = Field(default=0, description="questions attempted so far, failed ones included")
    failed: int = Field(default=0)
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    prompt_tokens: int = Field(default=0)
    completion_tokens: int = Field(default=0)
    cost: float = Field(default=0.0)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    heartbeat_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(UTCDateTime(), nullable=False),
        description="last sign of life: start or a question finished",
    )


class QuestionDraft(SQLModel, table=True):
    __tablename__ = "question_drafts"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(
        sa_column=Column(Integer, ForeignKey("generation_jobs.id"), nullable=False, index=True)
    )
    position: int = Field(default=0, description="order within the job")
    type: str = Field(max_length=20)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    points: float = Field(default=1.0)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    explanation: str = Field(default="", sa_column=Column(Text, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    difficulty: str = Field(default="medium", max_length=8)
    reference: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    reference_status: str = Field(
        default="not_applicable", max_length=16, description="not_applicable|passed|not_verified"
    )
    duplicate_of: int | None = Field(default=None, description="most similar bank question")
    similarity: float | None = Field(default=None)
    status: str = Field(default="draft", max_length=10, index=True)
    question_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("questions.id"), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
