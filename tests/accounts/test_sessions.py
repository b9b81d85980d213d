"""Single active session: what ends a session, and that its live socket hears about it."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import aiohttp
import pytest

from plugins.accounts import live
from tests.accounts.auth_support import EVENTS, LOGOUT, ME, REFRESH, csrf_header, outbox
from tests.accounts.conftest import PASSWORD, Client, MakeUser, bearer, login

NEW_PASSWORD = "a brand new passphrase 42"


async def _ended_reason(client: Client, session: dict[str, Any]) -> str:
    response = await client.get(ME, headers=bearer(session))
    assert response.status == 401, await response.text()
    body = await response.json()
    assert body["error"]["code"] == "session_ended"
    reason: str = body["error"]["details"]["reason"]
    return reason


async def test_a_second_login_ends_the_first_session(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    first = await login(client, user.email)
    second = await login(client, user.email)
    assert await _ended_reason(client, first) == "signed_in_elsewhere"
    refused = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert refused.status == 401
    assert (await client.get(ME, headers=bearer(second))).status == 200


async def test_sessions_of_other_users_are_untouched(client: Client, make_user: MakeUser) -> None:
    alice, bob = await make_user(), await make_user()
    alice_session = await login(client, alice.email)
    await login(client, bob.email)
    assert (await client.get(ME, headers=bearer(alice_session))).status == 200


async def test_logout_ends_the_session_and_clears_cookies(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    session = await login(client, user.email)
    response = await client.post(LOGOUT, headers=bearer(session))
    assert response.status == 204
    cleared = {h.split("=", 1)[0] for h in response.headers.getall("Set-Cookie")}
    assert cleared == {"inv_access", "inv_refresh", "inv_csrf"}
    assert await _ended_reason(client, session) == "logout"
    refused = await client.post(REFRESH, json={"refresh_token": session["refresh_token"]})
    assert refused.status == 401


async def test_password_change_ends_the_session_and_returns_a_fresh_one(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    old = await login(client, user.email)
    response = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(old),
    )
    assert response.status == 200, await response.text()
    fresh = await response.json()
    assert await _ended_reason(client, old) == "password_changed"
    assert (await client.get(ME, headers=bearer(fresh))).status == 200
    await login(client, user.email, NEW_PASSWORD)


async def test_password_reset_ends_the_session(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    session = await login(client, user.email)
    forgot = await client.post("/api/v1/auth/password/forgot", json={"email": user.email})
    assert forgot.status == 202
    [mail] = await outbox(client)
    token = re.search(r"token=([\w-]+)", mail.get_content()).group(1)  # type: ignore[union-attr]
    reset = await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert reset.status == 204, await reset.text()
    assert await _ended_reason(client, session) == "password_reset"


async def _next_message(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> aiohttp.WSMessage:
    return await asyncio.wait_for(ws.receive(), timeout)


async def test_websocket_hears_session_ended_within_a_second(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    first = await login(client, user.email)
    client.session.cookie_jar.clear()
    async with client.ws_connect(EVENTS, headers=bearer(first)) as ws:
        await login(client, user.email)
        started = time.monotonic()
        message = await _next_message(ws, 1.0)
        assert message.type == aiohttp.WSMsgType.TEXT
        assert message.json() == {"type": "session_ended", "reason": "signed_in_elsewhere"}
        closing = await _next_message(ws, 1.0)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == live.CLOSE_SESSION_ENDED
        assert time.monotonic() - started < 1.0


async def test_websocket_by_cookie_closes_on_logout(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    session = await login(client, user.email)  # the jar now holds the cookies
    async with client.ws_connect(EVENTS) as ws:
        response = await client.post(LOGOUT, headers=csrf_header(client))
        assert response.status == 204
        message = await _next_message(ws, 1.0)
        assert message.json()["reason"] == "logout"
        await _next_message(ws, 1.0)
        assert ws.close_code == live.CLOSE_SESSION_ENDED
    assert session["access_token"]


async def test_other_sessions_sockets_stay_open(client: Client, make_user: MakeUser) -> None:
    alice, bob = await make_user(), await make_user()
    alice_session = await login(client, alice.email)
    client.session.cookie_jar.clear()
    async with client.ws_connect(EVENTS, headers=bearer(alice_session)) as ws:
        await login(client, bob.email)
        await login(client, bob.email)
        with pytest.raises(asyncio.TimeoutError):
            await _next_message(ws, 0.3)


async def test_websocket_of_an_ended_session_is_refused(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    first = await login(client, user.email)
    await login(client, user.email)
    client.session.cookie_jar.clear()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(EVENTS, headers=bearer(first))
    assert refused.value.status == 401


async def test_websocket_from_another_origin_is_refused(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    session = await login(client, user.email)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(
            EVENTS, headers={**bearer(session), "Origin": "https://evil.example"}
        )
    assert refused.value.status == 403


async def test_websocket_needs_sign_in(client: Client) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(EVENTS)
    assert refused.value.status == 401
