"""Password rules (OWASP ASVS 2.1): 8 to 128 characters, any characters, not a common password
and not the account's own email or name. No composition rules: they make passwords worse."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from core.errors import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    """The 30,000 most common leaked passwords, shipped by the zxcvbn package (offline)."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def normalise(password: str) -> str:
    """NFKC, so the same password typed on different keyboards hashes the same."""
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, *, email: str = "", display_name: str = "") -> str:
    """Return the normalised password, or raise :class:`InvalidInput` saying what to change."""
    value = normalise(password)
    length = len(value)
    if length < MIN_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_LENGTH} characters")
    if length > MAX_LENGTH:
        raise InvalidInput(f"password must be at most {MAX_LENGTH} characters")
    lowered = value.lower()
    if lowered in _common() or len(set(lowered)) < 3:
        raise InvalidInput("this password is too common; choose a less guessable one")
    local = email.split("@", 1)[0].lower()
    if lowered in {email.lower(), local, display_name.lower().strip()} - {""}:
        raise InvalidInput("password must not be your email address or name")
    return value
