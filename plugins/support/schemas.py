"""What the support API reads and answers.

Messages are stripped before their length is checked, so a message of blanks is "empty" (422)
rather than stored. The 5000-character cap keeps one message readable in a panel during an
exam; longer explanations belong in several messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

Category = Literal["technical", "content", "proctoring", "other"]
Status = Literal["open", "answered", "closed"]
MAX_MESSAGE_CHARS = 5000
MAX_SUBJECT_CHARS = 120


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("write a message first")
    return value


class TicketCreate(BaseModel):
    category: Category = Field(description="what the problem is about")
    message: str = Field(max_length=MAX_MESSAGE_CHARS, description="the first message")
    subject: str = Field(
        "", max_length=MAX_SUBJECT_CHARS, description="a title; empty: the message's first line"
    )
    attempt_id: str | None = Field(
        None, max_length=32, description="the caller's attempt this ticket is raised from"
    )
    item: int | None = Field(
        None, ge=0, le=10_000, description="the question's position in that attempt's paper"
    )

    _message = field_validator("message")(_text)


class MessageCreate(BaseModel):
    body: str = Field(max_length=MAX_MESSAGE_CHARS, description="the reply")

    _body = field_validator("body")(_text)


class StatusChange(BaseModel):
    status: Literal["open", "closed"] = Field(description="close the ticket, or reopen it")


class TicketQuery(BaseModel):
    status: Status | Literal["active"] | None = Field(
        None, description="only tickets in this state; ``active``: open or answered"
    )
    exam_id: int | None = Field(None, ge=1, description="only this exam's tickets")
    attempt_id: str | None = Field(None, max_length=32, description="only this attempt's")
    older_than_minutes: int | None = Field(
        None, ge=0, le=525_600, description="only tickets opened at least this long ago"
    )
    unread: bool | None = Field(None, description="only tickets with news for the caller")
    messages: bool = Field(False, description="include each ticket's messages")
    limit: int = Field(100, ge=1, le=500)


class MessagePublic(BaseModel):
    id: int
    author_id: int
    author_role: str
    author_name: str
    body: str
    created_at: datetime


class TicketPublic(BaseModel):
    id: int
    user_id: int
    candidate_name: str
    exam_id: int | None
    exam_title: str | None
    attempt_id: str | None
    item: int | None
    category: Category
    subject: str
    status: Status
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime
    last_message_role: str
    message_count: int
    unread: bool = Field(description="the other side wrote since the caller's side last read")
    messages: list[MessagePublic] | None = None


class TicketList(BaseModel):
    tickets: list[TicketPublic]
    unread: int = Field(description="how many of the listed tickets have news for the caller")
    poll_seconds: float = Field(description="how often a page should ask again")
