"""Errors the kernel raises, each carrying a stable machine-readable code.

The web layer turns an :class:`InvigilatorError` into the JSON error envelope, so a plugin that
raises ``NotFound("exam 3 does not exist")`` gets a correct 404 without knowing about HTTP.
"""

from __future__ import annotations

from typing import Any, ClassVar


class InvigilatorError(Exception):
    """Base of every error with a stable code and an HTTP-like status."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ConfigError(InvigilatorError):
    """Settings or ``plugins.toml`` are invalid; the message names the bad field."""

    code = "config_error"
    status = 500


class NotFound(InvigilatorError):
    code = "not_found"
    status = 404


class Conflict(InvigilatorError):
    code = "conflict"
    status = 409


class InvalidInput(InvigilatorError):
    code = "invalid_input"
    status = 422


class Forbidden(InvigilatorError):
    code = "forbidden"
    status = 403


class Unauthorized(InvigilatorError):
    code = "unauthorized"
    status = 401


class Unavailable(InvigilatorError):
    """A backend (database, event log, blob store, broker) cannot be reached."""

    code = "backend_unavailable"
    status = 503
