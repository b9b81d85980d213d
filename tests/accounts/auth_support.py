"""Helpers for the sign-in, token and session tests: cookies, forged tokens, audit rows, mail."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import jwt
from sqlalchemy import select
from sqlmodel import col

from core.services import Services
from plugins.accounts.tables import SecurityEvent
from tests.accounts.conftest import Client
from webapp.keys import SERVICES

ME = "/api/v1/auth/me"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
TOKEN = "/api/v1/auth/token"
EVENTS = "/api/v1/auth/session/events"


def services_of(client: Client) -> Services:
    return client.app[SERVICES]


def cookie(client: Client, name: str, path: str = "/") -> str | None:
    """The value the client's jar would send to ``path`` (respects cookie paths)."""
    morsel = client.session.cookie_jar.filter_cookies(client.make_url(path)).get(name)
    return morsel.value if morsel is not None else None


def csrf_header(client: Client) -> dict[str, str]:
    return {"X-CSRF-Token": cookie(client, "inv_csrf") or ""}


def set_cookies(response: Any) -> dict[str, str]:
    """Raw ``Set-Cookie`` header per cookie name (to check the flags)."""
    headers = response.headers.getall("Set-Cookie", [])
    return {header.split("=", 1)[0]: header for header in headers}


async def events(client: Client, kind: str | None = None) -> list[SecurityEvent]:
    async with services_of(client).db.session() as db:
        query = select(SecurityEvent).order_by(col(SecurityEvent.id))
        if kind is not None:
            query = query.where(col(SecurityEvent.kind) == kind)
        return list((await db.execute(query)).scalars())


async def kinds(client: Client) -> list[str]:
    return [event.kind for event in await events(client)]


async def outbox(client: Client, *, expect: int = 1, timeout: float = 3.0) -> list[EmailMessage]:
    """Messages in the blob outbox, waiting for ``expect`` of them (mail is written in the
    background); returns what is there when the time is up."""
    blobs = services_of(client).blobs
    deadline = time.monotonic() + timeout
    while True:
        infos = [i for i in await blobs.list("outbox/") if i.key.endswith(".eml")]
        if len(infos) >= expect or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    messages = []
    for info in infos:
        parsed = message_from_bytes(await blobs.get(info.key), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_jwt(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand (for ``alg: none`` and tampering)."""
    parts = [json.dumps(header).encode(), json.dumps(claims).encode()]
    return ".".join([b64(parts[0]), b64(parts[1]), b64(signature)])


def valid_claims(sub: str, sid: str, /, **changes: Any) -> dict[str, Any]:
    """Claims the server would issue; ``changes`` with value None removes a claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "invigilator",
        "aud": "invigilator",
        "sub": sub,
        "sid": sid,
        "roles": ["candidate"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "test-jti",
        "typ": "access",
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims
