"""Accounts: the people who use Invigilator and the role each plays.

Follows the per-entity pattern ``UserBase / UserCreate / UserUpdate / User / UserPublic`` so that
the password hash can never leak through an API model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import EmailStr
from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Role(StrEnum):
    ADMIN = "admin"
    EXAMINER = "examiner"
    PROCTOR = "proctor"
    CANDIDATE = "candidate"


def _now() -> datetime:
    return datetime.now(UTC)


class UserBase(SQLModel):
    email: str = Field(max_length=254, index=True, unique=True)
    display_name: str = Field(max_length=120)
    role: Role = Field(default=Role.CANDIDATE, sa_type=String(16))  # value, not enum name
    is_active: bool = True


class UserCreate(UserBase):
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=8, max_length=128)


class UserUpdate(SQLModel):
    display_name: str | None = Field(None, max_length=120)
    role: Role | None = None
    is_active: bool | None = None


class User(UserBase, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False)
    )


class UserPublic(UserBase):
    id: int
    created_at: datetime
