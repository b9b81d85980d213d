"""The accounts pages: sign-in, password reset, profile, and the admin users and audit pages.

Each page is a thin server-rendered shell; the forms talk to the JSON API from small ES modules
(``static/*.js``), so the API stays the one place that validates, throttles and audits. Pages
are endpoints with ``include_in_schema=False`` so the web layer checks their roles exactly as it
does for the API: an anonymous browser is sent to ``/login?next=...`` and a signed-in person
without the role gets the 403 page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from plugins.accounts.audit import KINDS
from plugins.accounts.config import AccountsConfig
from storage.tables.user import Role
from webapp.keys import PRINCIPAL, Principal
from webapp.pages import render
from webapp.routing import ApiRequest, Router

router = Router()

SIGNED_IN = frozenset(role.value for role in Role)
ADMIN = frozenset({Role.ADMIN.value})
ROLES = tuple(role.value for role in Role)
# Where a sign-in lands when no (usable) ``next`` was given.
ADMIN_HOME = "/admin/users"
USER_HOME = "/profile"
# Pages it makes no sense to return to straight after signing in.
_NOT_A_DESTINATION = ("/login", "/logout", "/forgot", "/reset")


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a path on this site, else None.

    ``next`` comes from the query string, so anyone can craft a sign-in link with it; accepting
    ``//evil.example`` (scheme-relative), ``https://evil.example`` or ``/\\evil.example`` (which
    browsers read as ``//``) would turn our trusted sign-in page into a phishing redirector.
    """
    if not value or len(value) > 2000 or not value.startswith("/"):
        return None
    if value.startswith("//") or "\\" in value:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):  # header splitting, tabs, NUL
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    if parts.path.rstrip("/") in _NOT_A_DESTINATION:
        return None
    return value


def home_for(roles: frozenset[str]) -> str:
    """Where a person lands after signing in: admins manage users, everyone else their profile."""
    return ADMIN_HOME if Role.ADMIN.value in roles else USER_HOME


def nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    """Header links; admins also get the pages only they may open, so nobody sees a dead end."""
    if not roles:
        return [("Sign in", "/login")]
    items: list[tuple[str, str]] = []
    if Role.ADMIN.value in roles:
        items += [("Users", "/admin/users"), ("Audit log", "/admin/audit")]
    items += [("Profile", "/profile"), ("Sign out", "/logout")]
    return items


def _principal(req: ApiRequest) -> Principal | None:
    return req.request.get(PRINCIPAL)


def _config(req: ApiRequest) -> AccountsConfig:
    return req.services.section("accounts", AccountsConfig)


@router.get("/login", include_in_schema=False)
async def login_page(req: ApiRequest) -> web.Response:
    """The sign-in form; someone already signed in goes straight on to where they were going."""
    target = safe_next(req.request.query.get("next"))
    principal = _principal(req)
    if principal is not None:
        raise web.HTTPSeeOther(target or home_for(principal.roles))
    return render(
        req.request,
        "accounts/login.html",
        {
            "title": "Sign in",
            "next": target or "",
            "signed_out": "signed_out" in req.request.query,
        },
    )


@router.get("/forgot", include_in_schema=False)
async def forgot_page(req: ApiRequest) -> web.Response:
    """Ask for a reset link by email."""
    return render(req.request, "accounts/forgot.html", {"title": "Reset your password"})


@router.get("/reset", include_in_schema=False)
async def reset_page(req: ApiRequest) -> web.Response:
    """Choose a new password with the token from the emailed link."""
    token = req.request.query.get("token", "")[:512]
    return render(
        req.request, "accounts/reset.html", {"title": "Choose a new password", "token": token}
    )


@router.get("/logout", include_in_schema=False)
async def logout_page(req: ApiRequest) -> web.Response:
    """A confirmation button, not an immediate sign-out.

    Signing out on a plain GET would let any other site end a candidate's session mid-exam with
    a link or an image; the button sends a POST with the CSRF header instead. Someone who is not
    signed in has nothing to end and goes to the sign-in page.
    """
    if _principal(req) is None:
        raise web.HTTPSeeOther("/login")
    return render(req.request, "accounts/logout.html", {"title": "Sign out"})


@router.get("/profile", include_in_schema=False, roles=SIGNED_IN)
async def profile_page(req: ApiRequest) -> web.Response:
    """Name and password for everyone; consent and the reference face for candidates."""
    principal = _principal(req)
    roles = principal.roles if principal is not None else frozenset()
    config = _config(req)
    return render(
        req.request,
        "accounts/profile.html",
        {
            "title": "Your profile",
            "is_candidate": Role.CANDIDATE.value in roles,
            "consent_version": config.consent_text_version,
            "retention_days": config.enrollment_retention_days,
            "max_photo_bytes": config.max_enrollment_photo_bytes,
        },
    )


@router.get("/admin/users", include_in_schema=False, roles=ADMIN)
async def users_page(req: ApiRequest) -> web.Response:
    """The users table with filters, bulk actions, creation and CSV import."""
    return render(req.request, "accounts/users.html", {"title": "Users", "roles": ROLES})


@router.get("/admin/audit", include_in_schema=False, roles=ADMIN)
async def audit_page(req: ApiRequest) -> web.Response:
    """The security audit log with filters."""
    return render(req.request, "accounts/audit.html", {"title": "Audit log", "kinds": KINDS})
