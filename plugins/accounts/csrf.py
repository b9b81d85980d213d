"""CSRF protection for requests authenticated by cookie: a signed double-submit token.

Browsers attach cookies to cross-site requests by themselves; they never attach a custom
header. So an unsafe request signed in by cookie must also carry ``X-CSRF-Token`` equal to the
``inv_csrf`` cookie, which only this site's own script can read. The token is moreover an HMAC
of the session id under the server secret: someone able to plant a cookie (a sibling subdomain)
still cannot forge a pair that matches the victim's session. Bearer requests need none of this
(a browser never adds an ``Authorization`` header on its own).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from aiohttp import web

CSRF_COOKIE = "inv_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
MAX_TOKEN_CHARS = 128


def token_for(secret: bytes, session_id: str) -> str:
    """The CSRF token of a session: stable for its life, so refreshes need not change it."""
    mac = hmac.new(secret, f"csrf:{session_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def needs_check(request: web.Request) -> bool:
    return request.method.upper() not in SAFE_METHODS


def is_valid(request: web.Request, secret: bytes, session_id: str) -> bool:
    """Header and cookie present, equal, and the token of ``session_id`` (constant time)."""
    header = request.headers.get(CSRF_HEADER, "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not header or not cookie or len(header) > MAX_TOKEN_CHARS:
        return False
    expected = token_for(secret, session_id).encode()
    same = hmac.compare_digest(header.encode(), cookie.encode())
    return hmac.compare_digest(header.encode(), expected) and same
