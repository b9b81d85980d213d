"""The ``[accounts]`` table of plugins.toml: token lifetimes, throttling, enrollment retention."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AccountsConfig(BaseModel):
    """Security knobs an operator may tune; every default is a safe choice."""

    demo_password: str = Field(
        "invigilator-demo",
        min_length=8,
        max_length=128,
        description="Password of the demo accounts seed-demo creates (never seed a demo on a "
        "public server).",
    )
    access_token_minutes: int = Field(
        10, ge=1, le=60, description="Lifetime of an access token (JWT)."
    )
    refresh_token_hours: int = Field(
        12, ge=1, le=24 * 30, description="Lifetime of a refresh token and of a session."
    )
    reset_token_minutes: int = Field(
        30, ge=5, le=24 * 60, description="Lifetime of a password-reset link."
    )
    self_registration: bool = Field(
        False, description="Let people create candidate accounts themselves."
    )
    login_failures_before_delay: int = Field(
        5, ge=1, le=100, description="Failed logins on one account before it is slowed down."
    )
    login_max_delay_seconds: int = Field(
        30,
        ge=1,
        le=300,
        description="Cap on the delay one account can be forced to wait, so an attacker "
        "cannot lock a candidate out right before an exam.",
    )
    login_failures_per_address: int = Field(
        30, ge=1, le=10_000, description="Failed logins one address may make per 15 minutes."
    )
    enrollment_retention_days: int = Field(
        180, ge=1, le=3650, description="Days a reference face is kept after consent."
    )
    consent_text_version: str = Field(
        "2026-11", max_length=32, description="Version of the consent text candidates accept."
    )
    max_enrollment_photo_bytes: int = Field(
        2 * 1024 * 1024, ge=10_000, le=20 * 1024 * 1024, description="Largest reference photo."
    )
    secure_cookies: bool | None = Field(
        None,
        description="Mark cookies Secure. Default: on when the public URL is https.",
    )
