"""API models of the notifications plugin."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["email", "sms", "inapp", "webhook"]
Status = Literal["queued", "sent", "failed", "skipped"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InboxItem(BaseModel):
    id: int
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class Inbox(BaseModel):
    items: list[InboxItem]
    unread: int


class InboxQuery(_Strict):
    unread: bool = Field(False, description="only unread notifications")
    limit: int = Field(30, ge=1, le=200)


class CategoryChoice(BaseModel):
    category: str
    label: str
    channels: dict[str, bool] = Field(description="channel -> on")
    locked: list[str] = Field(description="channels that cannot be switched off (transactional)")


class Preferences(BaseModel):
    language: str
    phone: str
    categories: list[CategoryChoice]


class PreferencesIn(_Strict):
    language: str | None = Field(
        None, max_length=16, pattern=r"^([a-z]{2,3}(-[A-Za-z0-9]{2,8})?)?$"
    )
    phone: str | None = Field(
        None,
        max_length=32,
        pattern=r"^(\+[1-9][0-9]{6,14})?$",
        description="E.164 number for SMS, empty to remove",
    )
    channels: dict[str, dict[Channel, bool]] | None = Field(
        None, description="category -> channel -> on; transactional email cannot be turned off"
    )


class MessagePublic(BaseModel):
    id: int
    event: str
    category: str
    channel: str
    recipient: str
    user_id: int | None
    template: str
    language: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    provider_id: str
    created_at: datetime
    sent_at: datetime | None


class MessageQuery(_Strict):
    channel: Channel | None = None
    status: Status | None = None
    event: str | None = Field(None, max_length=64)
    user_id: int | None = Field(None, ge=1)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


class MessagePage(BaseModel):
    items: list[MessagePublic]
    total: int


class WebhookIn(_Strict):
    url: str = Field(max_length=2048)
    secret: str = Field(min_length=16, max_length=128, description="HMAC key, 16+ characters")
    events: list[str] = Field(default_factory=list, description="event names; empty: all")
    active: bool = True


class WebhookPatch(_Strict):
    url: str | None = Field(None, max_length=2048)
    secret: str | None = Field(None, min_length=16, max_length=128)
    events: list[str] | None = None
    active: bool | None = None


class WebhookPublic(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    consecutive_failures: int
    disabled_reason: str
    created_at: datetime
