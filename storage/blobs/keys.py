"""Blob key rules shared by every blob store.

Keys become file paths in the local store and object names in S3, so they are restricted to a
portable, traversal-proof alphabet: segments of ``[A-Za-z0-9._-]`` joined by single slashes.
"""

from __future__ import annotations

import re

from core.errors import InvalidInput

MAX_KEY_LENGTH = 512
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")


def _check_segments(text: str, what: str, *, allow_empty_last: bool) -> None:
    if "\\" in text or "\x00" in text:
        raise InvalidInput(f"{what} {text!r} must not contain backslashes or NUL bytes")
    if text.startswith("/"):
        raise InvalidInput(f"{what} {text!r} must be relative (no leading '/')")
    segments = text.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if not segment:
            if last and allow_empty_last:
                continue
            raise InvalidInput(f"{what} {text!r} has an empty segment ('//' or a trailing '/')")
        if segment in (".", ".."):
            raise InvalidInput(f"{what} {text!r} must not contain '.' or '..' segments")
        if not _SEGMENT.fullmatch(segment):
            raise InvalidInput(
                f"{what} {text!r}: segment {segment!r} may only use letters, digits, '.', '_' "
                "and '-'"
            )


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a valid blob key, else raise InvalidInput."""
    if not isinstance(key, str) or not key:
        raise InvalidInput("blob key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"blob key is {len(key)} characters long; at most {MAX_KEY_LENGTH}")
    _check_segments(key, "blob key", allow_empty_last=False)
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a key prefix that may end in '/' or mid-segment."""
    if prefix == "":
        return prefix
    if len(prefix) > MAX_KEY_LENGTH:
        raise InvalidInput(f"blob prefix is longer than {MAX_KEY_LENGTH} characters")
    # A trailing partial segment such as "snap" (matching "snapshots/...") is fine; only the
    # complete segments before it could be '..' and need the full check.
    _check_segments(prefix, "blob prefix", allow_empty_last=True)
    return prefix
