"""The OAuth2 token endpoint (RFC 6749) for scripts, LMS integrations and machine clients.

It speaks the RFC's wire format, not the API's JSON envelope: form-encoded parameters in, and
``{"error": ..., "error_description": ...}`` out, because OAuth2 client libraries expect
exactly that. It never sets cookies: a cross-site form can post here, and must gain nothing.
Password and refresh grants go through the same code as the JSON API (:mod:`signin`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
from datetime import timedelta
from functools import lru_cache
from urllib.parse import parse_qsl, unquote_plus

from aiohttp import web
from sqlalchemy import select
from sqlmodel import col

from plugins.accounts import audit, signin, tokens
from plugins.accounts.auth_models import OAuthError, OAuthToken
from plugins.accounts.config import AccountsConfig
from plugins.accounts.signin import NO_STORE, SignInRefused
from plugins.accounts.tables import ApiClient
from storage.passwords import hash_password, verify_password
from storage.tables.user import Role
from webapp.binding import read_body_limited
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/auth", tags=["authentication"])

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 8 * 1024
MAX_VALUE_CHARS = 512
_ROLES = frozenset(role.value for role in Role)
_BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="invigilator"'}


class OAuthFailure(Exception):
    """An RFC 6749 error: ``error`` is the RFC's code, ``description`` the human text."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def _answer(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=text,
        status=status,
        content_type="application/json",
        headers={**NO_STORE, **(headers or {})},
    )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(24))


async def _form(request: web.Request) -> dict[str, str]:
    if request.content_type != FORM:
        raise OAuthFailure(400, "invalid_request", f"send the parameters as {FORM}")
    raw = await read_body_limited(request, MAX_FORM_BYTES)
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise OAuthFailure(400, "invalid_request", "malformed form body") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise OAuthFailure(400, "invalid_request", f"parameter {name} given more than once")
        if len(value) > MAX_VALUE_CHARS:
            raise OAuthFailure(400, "invalid_request", f"parameter {name} is too long")
        params[name] = value
    return params


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise OAuthFailure(400, "invalid_request", f"parameter {name} is required")
    return value


def _client_credentials(request: web.Request, params: dict[str, str]) -> tuple[str, str]:
    """From HTTP Basic (RFC 6749 2.3.1: form-encoded, then base64) or the form, not both."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    in_form = "client_id" in params or "client_secret" in params
    if scheme.lower() == "basic":
        if in_form:
            raise OAuthFailure(400, "invalid_request", "use one client authentication method")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthFailure(401, "invalid_client", "malformed Basic credentials") from None
        client_id, _, secret = decoded.partition(":")
        return unquote_plus(client_id), unquote_plus(secret)
    return params.get("client_id", ""), params.get("client_secret", "")


async def _client_grant(req: ApiRequest, params: dict[str, str]) -> OAuthToken:
    services, request = req.services, req.request
    client_id, secret = _client_credentials(request, params)
    async with services.db.session() as db:
        query = select(ApiClient).where(col(ApiClient.client_id) == client_id[:64])
        client = (await db.execute(query)).scalars().first() if client_id else None
        hashed = client.secret_hash if client is not None else _dummy_hash()
        matches = await asyncio.to_thread(verify_password, hashed, secret)
        if client is None or not matches or not client.is_active:
            audit.record(
                db,
                "login.failed",
                request=request,
                client_id=client_id[:64],
                via="token",
                reason="invalid_client",
            )
            await db.commit()
            raise OAuthFailure(401, "invalid_client", "unknown client or wrong secret")
        audit.record(
            db, "login.succeeded", request=request, client_id=client.client_id, via="token"
        )
        await db.commit()
    config = services.section("accounts", AccountsConfig)
    roles = [r for r in (part.strip() for part in client.roles.split(",")) if r in _ROLES]
    access, expires_in = tokens.issue_access_token(
        services.settings.secret(),
        subject=f"{tokens.CLIENT_PREFIX}{client.client_id}",
        roles=roles,
        lifetime=timedelta(minutes=config.access_token_minutes),
    )
    return OAuthToken(access_token=access, expires_in=expires_in)


async def _grant(req: ApiRequest, params: dict[str, str]) -> OAuthToken:
    grant = _required(params, "grant_type")
    if grant == "password":
        username, password = _required(params, "username"), _required(params, "password")
        if len(username) > 254 or len(password) > 128:
            raise OAuthFailure(400, "invalid_request", "username or password too long")
        issued = await signin.sign_in_with_password(
            req.services, req.request, username, password, via="token"
        )
    elif grant == "refresh_token":
        issued = await signin.refresh(req.services, req.request, _required(params, "refresh_token"))
    elif grant == "client_credentials":
        return await _client_grant(req, params)
    else:
        raise OAuthFailure(
            400, "unsupported_grant_type", f"grant_type {grant[:40]} is not supported"
        )
    return OAuthToken(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
    )


@router.post(
    "/token",
    summary="OAuth2 token endpoint",
    description="RFC 6749 token endpoint. Send `application/x-www-form-urlencoded` with "
    "`grant_type` and: `password` → `username`, `password`; `refresh_token` → "
    "`refresh_token` (single use: the answer carries the next one); `client_credentials` → "
    "`client_id` and `client_secret` in the form or as HTTP Basic (no refresh token is "
    "issued). Answers `{access_token, token_type, expires_in, refresh_token?}` with "
    "`Cache-Control: no-store`. Errors use the RFC form `{error, error_description}`: "
    "`invalid_request`, `invalid_grant` (wrong password, bad or spent refresh token), "
    "`invalid_client` (401 with `WWW-Authenticate: Basic`), `unsupported_grant_type`, and "
    "`too_many_attempts` (429 with `Retry-After`) when sign-ins are throttled.",
    response=OAuthToken,
    max_body_bytes=MAX_FORM_BYTES,
    errors=(
        ErrorSpec(400, "invalid_request", "RFC 6749 error body, not the envelope"),
        ErrorSpec(401, "invalid_client", "RFC 6749 error body, not the envelope"),
        ErrorSpec(429, "too_many_attempts", "RFC 6749 error body, not the envelope"),
    ),
)
async def token(req: ApiRequest) -> web.Response:
    try:
        answer = await _grant(req, await _form(req.request))
    except OAuthFailure as failure:
        body = OAuthError(error=failure.error, error_description=failure.description)
        challenge = _BASIC_CHALLENGE if failure.status == 401 else None  # RFC 6749 5.2
        return _answer(failure.status, body.model_dump_json(), challenge)
    except SignInRefused as refused:
        if refused.kind == "throttled":
            body = OAuthError(error="too_many_attempts", error_description=refused.message)
            return _answer(429, body.model_dump_json(), {"Retry-After": str(refused.retry_after)})
        body = OAuthError(error="invalid_grant", error_description=refused.message)
        return _answer(400, body.model_dump_json())
    return _answer(200, answer.model_dump_json(exclude_none=True))
