"""The three sign-in cookies, set and cleared in one place so their flags never diverge.

``inv_access`` (the access JWT) and ``inv_refresh`` are HttpOnly so injected script cannot read
them; the refresh cookie is ``SameSite=Strict`` and scoped to ``/api/v1/auth`` so it travels
only to the endpoints that spend it. ``inv_csrf`` is readable by the page's script, which
echoes it in the ``X-CSRF-Token`` header (see :mod:`plugins.accounts.csrf`).
"""

from __future__ import annotations

from aiohttp import web

from core.services import Services
from plugins.accounts.config import AccountsConfig
from plugins.accounts.csrf import CSRF_COOKIE

ACCESS_COOKIE = "inv_access"
REFRESH_COOKIE = "inv_refresh"
REFRESH_PATH = "/api/v1/auth"


def secure_cookies(services: Services) -> bool:
    """Secure when configured, else when the public URL is https."""
    config = services.section("accounts", AccountsConfig)
    if config.secure_cookies is not None:
        return config.secure_cookies
    return services.settings.effective_public_url.lower().startswith("https://")


def set_auth_cookies(
    response: web.StreamResponse,
    *,
    services: Services,
    access_token: str,
    access_seconds: int,
    refresh_token: str,
    refresh_seconds: int,
    csrf_token: str,
) -> None:
    """Set all three; the CSRF cookie lives as long as the refresh token (the session)."""
    secure = secure_cookies(services)
    response.set_cookie(
        ACCESS_COOKIE,
        access_token,
        max_age=access_seconds,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=secure,
    )
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=refresh_seconds,
        path=REFRESH_PATH,
        httponly=True,
        samesite="Strict",
        secure=secure,
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf_token,
        max_age=refresh_seconds,
        path="/",
        httponly=False,
        samesite="Strict",
        secure=secure,
    )


def clear_auth_cookies(response: web.StreamResponse, *, services: Services) -> None:
    """Expire all three (same names, paths and flags, or browsers keep the old ones)."""
    secure = secure_cookies(services)
    for name, path, samesite, httponly in (
        (ACCESS_COOKIE, "/", "Lax", True),
        (REFRESH_COOKIE, REFRESH_PATH, "Strict", True),
        (CSRF_COOKIE, "/", "Strict", False),
    ):
        response.del_cookie(name, path=path, secure=secure, httponly=httponly, samesite=samesite)
