"""The audit rows sign-in, sessions, tokens and passwords write: the right kinds, the right
user, the address, and never a secret."""

from __future__ import annotations

import json
import re

import pytest

from plugins.accounts import throttle
from tests.accounts.auth_support import LOGIN, LOGOUT, REFRESH, claims_of, events, kinds, outbox
from tests.accounts.conftest import PASSWORD, Client, MakeUser, bearer, login

NEW_PASSWORD = "granite meadow orchestra tide"


async def test_login_success_and_failures(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    await client.post(LOGIN, json={"email": user.email, "password": "wrong password"})
    await client.post(LOGIN, json={"email": "ghost@example.com", "password": "wrong password"})
    session = await login(client, user.email)
    failed = await events(client, "login.failed")
    assert [(e.user_id, e.details["reason"]) for e in failed] == [
        (user.id, "wrong_password"),
        (None, "unknown_email"),
    ]
    assert failed[1].details["email"] == "ghost@example.com"
    [succeeded] = await events(client, "login.succeeded")
    assert succeeded.user_id == user.id
    assert succeeded.ip == "127.0.0.1"
    assert succeeded.details["session_id"] == claims_of(session["access_token"])["sid"]
    everything = json.dumps([e.details for e in await events(client)])
    assert "wrong password" not in everything
    assert PASSWORD not in everything
    assert session["refresh_token"] not in everything


async def test_second_login_audits_the_revocation(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    await login(client, user.email)
    await login(client, user.email)
    [revoked] = await events(client, "session.revoked")
    assert revoked.user_id == user.id
    assert revoked.details["reason"] == "signed_in_elsewhere"


async def test_refresh_reuse_logout(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    session = await login(client, user.email)
    fresh = await (
        await client.post(REFRESH, json={"refresh_token": session["refresh_token"]})
    ).json()
    await client.post(REFRESH, json={"refresh_token": session["refresh_token"]})
    second = await login(client, user.email)
    await client.post(LOGOUT, headers=bearer(second))
    recorded = await kinds(client)
    for kind in ("token.refreshed", "token.reuse_detected", "logout"):
        assert recorded.count(kind) == 1, (kind, recorded)
    reasons = [e.details["reason"] for e in await events(client, "session.revoked")]
    assert reasons == ["refresh_token_reused", "logout"]
    assert fresh["refresh_token"]


async def test_password_change_and_reset(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    session = await login(client, user.email)
    await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(session),
    )
    await client.post("/api/v1/auth/password/forgot", json={"email": user.email})
    [mail] = await outbox(client)
    token = re.search(r"token=([\w-]+)", mail.get_content())
    assert token is not None
    await client.post(
        "/api/v1/auth/password/reset",
        json={"token": token.group(1), "new_password": "another good passphrase"},
    )
    for kind in ("password.changed", "password.reset_requested", "password.reset"):
        [event] = await events(client, kind)
        assert event.user_id == user.id, kind
    requested = (await events(client, "password.reset_requested"))[0]
    assert requested.ip == "127.0.0.1"


async def test_throttling_is_audited(
    client: Client, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "clock", lambda: 1_900_000_000.0)  # time stands still
    user = await make_user()
    for _ in range(6):
        await client.post(LOGIN, json={"email": user.email, "password": "wrong password"})
    [throttled] = await events(client, "login.throttled")
    assert throttled.details == {"email": user.email, "scope": "account"}
