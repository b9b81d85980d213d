"""Support tickets and their messages.

A ticket belongs to one candidate and may point at the attempt (and so the exam and question)
it was raised from. Read markers live on the ticket, one per side: staff share one marker,
since any proctor's answer serves the candidate, and the candidate has theirs. The role and
time of the newest message are kept on the ticket too, so lists show "unread" without reading
every thread.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def _when(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class SupportTicket(SQLModel, table=True):
    __tablename__ = "support_tickets"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    )
    exam_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("exams.id"), nullable=True, index=True)
    )
    attempt_id: str | None = Field(
        default=None,
        sa_column=Column(String(32), ForeignKey("attempts.id"), nullable=True, index=True),
    )
    item: int | None = Field(default=None, description="position of the question in the paper")
    category: str = Field(max_length=16, description="technical | content | proctoring | other")
    subject: str = Field(max_length=120)
    status: str = Field(default="open", max_length=10, index=True)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    last_message_at: datetime = _when()
    last_message_role: str = Field(default="candidate", max_length=10)
    message_count: int = Field(default=0, ge=0)
    last_staff_read_at: datetime | None = _when(nullable=True)
    last_candidate_read_at: datetime | None = _when(nullable=True)


class TicketMessage(SQLModel, table=True):
    __tablename__ = "support_messages"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(
        sa_column=Column(Integer, ForeignKey("support_tickets.id"), nullable=False, index=True)
    )
    author_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False))
    author_role: str = Field(max_length=16, description="the author's role when they wrote it")
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _when()
