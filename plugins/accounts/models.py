"""Request and response models of the accounts admin and enrollment APIs.

They are separate from the tables on purpose: a table row is validated against one of these
before it leaves the server, so a column added to a table (a hash, an address) is never
published by accident. Inputs forbid unknown fields so a typo (``"is_activ": false``) is a 422
naming the field instead of a silent no-op.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from storage.tables.user import Role, UserPublic

MAX_PAGE = 200


# Bidirectional overrides and isolates can make a name display as something else entirely.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _clean_name(value: str) -> str:
    """Names end up in e-mail headers, CSV files and pages; control characters have no business
    there (CR/LF would even split a header). Zero-width joiners stay: some scripts need them."""
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    if any(
        unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS for char in value
    ):
        raise ValueError("must not contain control characters or line breaks")
    return value


DisplayName = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_clean_name)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Users -----------------------------------------------------------------------------------


class UserQuery(_Input):
    q: str | None = Field(None, max_length=254, description="Email or name contains this.")
    role: Role | None = None
    active: bool | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=10_000_000)


class UserPage(BaseModel):
    items: list[UserPublic]
    total: int


class NewUser(_Input):
    email: EmailStr = Field(max_length=254)
    display_name: DisplayName
    role: Role = Role.CANDIDATE
    password: str | None = Field(
        None,
        max_length=1024,
        description="Omit to send the person an invitation (a password-reset link) instead.",
    )


class UserPatch(_Input):
    display_name: DisplayName | None = None
    role: Role | None = None
    is_active: bool | None = None


class BulkAction(_Input):
    user_ids: list[int] = Field(min_length=1, max_length=1000)
    action: Literal["disable", "enable", "set_role"]
    role: Role | None = Field(None, description="Required with set_role.")

    @model_validator(mode="after")
    def _role_with_set_role(self) -> BulkAction:
        if (self.action == "set_role") != (self.role is not None):
            raise ValueError("role is required with set_role and only allowed with it")
        return self


class BulkResult(BaseModel):
    updated: int = Field(description="Users whose state changed (already matching ones count 0).")


class ImportQuery(_Input):
    dry_run: bool = False


class ImportProblem(BaseModel):
    line: int = Field(description="Line of the CSV file (the header is line 1).")
    message: str


class ImportResult(BaseModel):
    dry_run: bool
    rows: int = Field(description="Data rows read.")
    created: int = Field(description="Users created (0 on a dry run).")
    invited: int = Field(description="Rows without a password: invited (or to be, on a dry run).")
    errors: list[ImportProblem] = Field(default_factory=list)


# API clients -----------------------------------------------------------------------------

ClientRole = Literal["examiner", "proctor", "admin"]


class NewClient(_Input):
    name: DisplayName
    roles: list[ClientRole] = Field(min_length=1, max_length=3)

    @model_validator(mode="after")
    def _unique_roles(self) -> NewClient:
        self.roles = sorted(set(self.roles))
        return self


class ClientPublic(BaseModel):
    client_id: str
    name: str
    roles: list[str]
    is_active: bool
    created_at: datetime


class ClientCreated(ClientPublic):
    client_secret: str = Field(description="Shown only in this answer; store it now.")


# Audit -----------------------------------------------------------------------------------


class AuditQuery(_Input):
    kind: str | None = Field(None, max_length=48)
    user_id: int | None = None
    since: datetime | None = Field(None, description="Inclusive; without a zone means UTC.")
    until: datetime | None = Field(None, description="Exclusive; without a zone means UTC.")
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=10_000_000)


class SecurityEventPublic(BaseModel):
    id: int
    ts: datetime
    kind: str
    user_id: int | None
    actor_id: int | None
    ip: str
    user_agent: str
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[SecurityEventPublic]
    total: int


# Face enrollment -------------------------------------------------------------------------


class ConsentIn(_Input):
    consent: Literal[True] = Field(description="Must be true: consent is an explicit act.")
    text_version: str = Field(min_length=1, max_length=32)


class Enrollment(BaseModel):
    status: Literal["none", "consented", "active", "withdrawn"]
    enrollment_id: int | None = None
    consent_given_at: datetime | None = None
    consent_text_version: str | None = None
    retention_until: datetime | None = None
    has_photo: bool = False
    has_embedding: bool = False
    embedding_model: str | None = None
