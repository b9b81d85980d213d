"""Live proctoring's tables: the live score, reviewers' decisions, proctors' actions, consent.

Violations themselves live in the event log (append-only, high volume); SQL holds what is
queried by attempt and changed by people: the current score with its breakdown (so the wall
sorts by risk with one indexed query), each reviewer decision, each proctor action, and each
candidate's consent to being proctored for an exam.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def _when() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ProctoringScore(SQLModel, table=True):
    """The live suspicion score of one attempt and how it was reached."""

    __tablename__ = "proctoring_scores"

    attempt_id: str = Field(
        sa_column=Column(String(32), ForeignKey("attempts.id"), primary_key=True)
    )
    exam_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    score: float = Field(default=0.0, ge=0, le=100)
    breakdown: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    violations: int = Field(default=0, ge=0)
    open_violations: int = Field(default=0, ge=0)
    updated_at: datetime = _when()


class ViolationReview(SQLModel, table=True):
    """A reviewer's decision on one violation; the newest decision replaces the previous one."""

    __tablename__ = "violation_reviews"
    __table_args__ = (UniqueConstraint("attempt_id", "violation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: str = Field(
        sa_column=Column(String(32), ForeignKey("attempts.id"), nullable=False, index=True)
    )
    violation_id: str = Field(max_length=64)
    decision: str = Field(max_length=12, description="confirmed | dismissed | reviewed")
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    reviewer_id: int | None = None
    decided_at: datetime = _when()


class ProctorAction(SQLModel, table=True):
    """A proctor's intervention in an attempt, as it was sent."""

    __tablename__ = "proctor_actions"

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: str = Field(
        sa_column=Column(String(32), ForeignKey("attempts.id"), nullable=False, index=True)
    )
    actor_id: int | None = None
    action: str = Field(max_length=12, description="message | warn | pause | resume | terminate")
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    at: datetime = _when()


class ProctoringConsent(SQLModel, table=True):
    """A candidate's consent to live proctoring for one exam, with the text they agreed to."""

    __tablename__ = "proctoring_consents"
    __table_args__ = (UniqueConstraint("exam_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    exam_id: int = Field(
        sa_column=Column(Integer, ForeignKey("exams.id"), nullable=False, index=True)
    )
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False))
    text_version: str = Field(max_length=20)
    ip: str = Field(default="", max_length=45)
    consented_at: datetime = _when()
