"""Request and response models of the authentication API.

Every text field has an upper bound (so an oversized value is a 422, never a slow hash of a
megabyte or a database error) and unknown fields are refused (so ``{"role": "admin"}`` in a
registration is an error, not silently ignored today and honoured by a later version).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from storage.tables.user import UserPublic


def _printable(value: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        raise ValueError("must not contain control characters")
    return value


Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
Password = Annotated[str, Field(min_length=1, max_length=128)]
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    AfterValidator(_printable),
]
OpaqueToken = Annotated[str, Field(min_length=1, max_length=256)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginBody(_Input):
    email: Email
    password: Password


class RefreshBody(_Input):
    refresh_token: OpaqueToken | None = Field(
        None, description="Omit to use the inv_refresh cookie (then send X-CSRF-Token too)."
    )


class MePatch(_Input):
    display_name: DisplayName


class PasswordChange(_Input):
    current_password: Password
    new_password: Password


class ForgotBody(_Input):
    email: Email


class ResetBody(_Input):
    token: OpaqueToken
    new_password: Password


class RegisterBody(_Input):
    email: Annotated[EmailStr, Field(max_length=254)]
    display_name: DisplayName
    password: Password


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = Field("bearer", description="Always bearer.")
    expires_in: int = Field(description="Seconds the access token stays valid.")
    refresh_token: str = Field(description="Single use; each refresh returns the next one.")
    csrf_token: str = Field(description="Echo in X-CSRF-Token on cookie-authenticated writes.")
    user: UserPublic


class Me(BaseModel):
    user: UserPublic
    session_id: str
    roles: list[str]


class Accepted(BaseModel):
    status: str = "sent if the account exists"


class OAuthToken(BaseModel):
    """RFC 6749 section 5.1 access token response."""

    access_token: str
    token_type: str = Field("bearer", description="Always bearer.")
    expires_in: int
    refresh_token: str | None = None


class OAuthError(BaseModel):
    """RFC 6749 section 5.2 error response."""

    error: str
    error_description: str = ""
