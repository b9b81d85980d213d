"""Question bank tables. A question is a stable identity; its content lives in immutable
versions, so editing a question never changes a paper already drawn from an older version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class QuestionCategory(SQLModel, table=True):
    __tablename__ = "question_categories"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    parent_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("question_categories.id"), nullable=True),
    )


class Question(SQLModel, table=True):
    """The identity of a question; ``current_version`` is what new papers draw."""

    __tablename__ = "questions"

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=20, index=True)
    current_version: int = Field(default=1, ge=1)
    category_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("question_categories.id"), nullable=True, index=True),
    )
    difficulty: str = Field(default="medium", max_length=8, index=True)
    archived: bool = Field(default=False, index=True)
    created_by: int | None = Field(default=None)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class QuestionVersion(SQLModel, table=True):
    """Immutable content of one version of a question."""

    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(
        sa_column=Column(Integer, ForeignKey("questions.id"), nullable=False, index=True)
    )
    version: int = Field(ge=1)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False), description="Markdown")
    points: float = Field(default=1.0, gt=0)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    explanation: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_by: int | None = Field(default=None)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class QuestionTag(SQLModel, table=True):
    __tablename__ = "question_tags"

    question_id: int = Field(
        sa_column=Column(Integer, ForeignKey("questions.id"), primary_key=True)
    )
    tag: str = Field(sa_column=Column(String(64), primary_key=True, index=True))
