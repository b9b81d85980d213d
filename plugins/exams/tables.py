"""Exam engine tables.

The server owns the clock: an attempt's ``deadline_at`` is computed and stored when it starts
(duration + the candidate's extra time, never past the exam's close plus grace) and only moves
when time is credited back (by an examiner, after an outage, or when a proctor's pause ends).
Each attempt's paper (which question versions, in which order, with which option order) is
drawn from ``seed`` and stored, so it is reproducible and auditable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def _at(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class Exam(SQLModel, table=True):
    __tablename__ = "exams"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(
        default="draft", max_length=12, index=True, description="draft | published | archived"
    )
    opens_at: datetime | None = _at(nullable=True)
    closes_at: datetime | None = _at(nullable=True)
    duration_minutes: int = Field(default=60, ge=1, le=24 * 60)
    attempts_allowed: int = Field(default=1, ge=1, le=100)
    navigation: str = Field(default="free", max_length=12, description="free | sequential")
    shuffle_questions: bool = True
    shuffle_options: bool = True
    expiry_action: str = Field(default="auto_submit", max_length=16)
    grace_seconds: int = Field(default=60, ge=0, le=3600)
    negative_marking: float = Field(
        default=0.0, ge=0, le=1, description="share of a question's points lost when wrong"
    )
    release_policy: str = Field(
        default="manual", max_length=16, description="immediately | after_close | manual"
    )
    released_at: datetime | None = _at(nullable=True)
    pass_mark: float | None = Field(default=None, ge=0, le=100, description="percent")
    proctoring_policy: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    created_by: int | None = None
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ExamSection(SQLModel, table=True):
    """A section draws its questions by ``rules``: fixed questions and/or pool draws."""

    __tablename__ = "exam_sections"

    id: int | None = Field(default=None, primary_key=True)
    exam_id: int = Field(
        sa_column=Column(Integer, ForeignKey("exams.id"), nullable=False, index=True)
    )
    position: int = Field(default=0)
    title: str = Field(default="", max_length=200)
    rules: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class ExamCandidate(SQLModel, table=True):
    """Who may take an exam, and their accommodations."""

    __tablename__ = "exam_candidates"
    __table_args__ = (UniqueConstraint("exam_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    exam_id: int = Field(
        sa_column=Column(Integer, ForeignKey("exams.id"), nullable=False, index=True)
    )
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    )
    extra_time_minutes: int = Field(default=0, ge=0, le=24 * 60)
    exempt_detectors: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    notes: str = Field(default="", max_length=500)


class Attempt(SQLModel, table=True):
    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("exam_id", "user_id", "number"),)

    id: str = Field(primary_key=True, max_length=32)
    exam_id: int = Field(
        sa_column=Column(Integer, ForeignKey("exams.id"), nullable=False, index=True)
    )
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    )
    number: int = Field(default=1, ge=1)
    seed: str = Field(max_length=32)
    status: str = Field(
        default="in_progress",
        max_length=16,
        index=True,
        description="in_progress | submitted | auto_submitted | graded",
    )
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    deadline_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    submitted_at: datetime | None = _at(nullable=True)
    time_credit_seconds: int = Field(default=0, ge=0)
    paper: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    score: float | None = None
    max_score: float | None = None
    graded_at: datetime | None = _at(nullable=True)
    # Live proctoring (revision 0003_exams_proctoring). While ``paused_at`` is set the attempt
    # takes no saves and no submit, and its clock stands still: resuming credits the pause to
    # ``deadline_at``. ``ended_by`` says who closed it; ``end_reason`` is a proctor's reason.
    paused_at: datetime | None = _at(nullable=True)
    ended_by: str | None = Field(
        default=None, max_length=12, description="candidate | timer | proctor (null: not ended)"
    )
    end_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Answer(SQLModel, table=True):
    """The latest saved response to one item of a paper. ``seq`` only moves forward."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("attempt_id", "item"),)

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: str = Field(
        sa_column=Column(String(32), ForeignKey("attempts.id"), nullable=False, index=True)
    )
    item: int = Field(ge=0, description="position in the paper")
    question_version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("question_versions.id"), nullable=False)
    )
    response: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    seq: int = Field(default=0, ge=0)
    flagged: bool = False
    saved_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    score: float | None = None
    feedback: str = Field(default="", sa_column=Column(Text, nullable=False))
    graded_by: int | None = None
    rubric_scores: dict[str, float] | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="per-criterion marks of a manually graded essay (revision 0002_exams_clock)",
    )
