"""Signed blob URLs for the local store: the app serves a blob to whoever holds an unexpired link.

The signature covers the key and the expiry, so neither can be changed, and it is domain-separated
from other uses of the same secret (session tokens) so one can never stand in for the other.
"""

from __future__ import annotations

import hashlib
import hmac

_DOMAIN = b"invigilator.blob-url.v1\n"


def sign(secret: bytes, key: str, expires_at: int) -> str:
    """Hex HMAC-SHA256 of ``key`` and the unix time ``expires_at``."""
    message = _DOMAIN + key.encode() + b"\n" + str(int(expires_at)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify(secret: bytes, key: str, expires_at: int, signature: str, now: float) -> bool:
    """True only for an untampered signature whose expiry is still in the future."""
    if now >= expires_at:
        return False
    expected = sign(secret, key, expires_at)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))
