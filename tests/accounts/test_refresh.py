"""Refresh-token rotation: single use, replay detection that ends the family, expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from plugins.accounts import tokens
from plugins.accounts.tables import AuthSession, RefreshToken
from tests.accounts.auth_support import (
    ME,
    REFRESH,
    claims_of,
    cookie,
    csrf_header,
    events,
    services_of,
)
from tests.accounts.conftest import Client, MakeUser, bearer, login


async def _refresh(client: Client, token: str) -> Any:
    return await client.post(REFRESH, json={"refresh_token": token})


async def test_refresh_rotates_the_token_and_keeps_the_session(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    first = await login(client, user.email)
    response = await _refresh(client, first["refresh_token"])
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    second = await response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert claims_of(second["access_token"])["sid"] == claims_of(first["access_token"])["sid"]
    assert second["csrf_token"] == first["csrf_token"]  # bound to the session, not the token
    assert (await client.get(ME, headers=bearer(second))).status == 200
    third = await _refresh(client, second["refresh_token"])
    assert third.status == 200
    async with services_of(client).db.session() as db:
        rows = list((await db.execute(select(RefreshToken))).scalars())
    assert len(rows) == 3
    assert sum(row.used_at is None for row in rows) == 1
    stored = {row.token_hash for row in rows}
    assert first["refresh_token"] not in stored  # only hashes are kept
    assert tokens.hash_token(first["refresh_token"]) in stored


async def test_replaying_a_spent_token_ends_the_session_for_everyone(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    stolen = await login(client, user.email)
    owner = await (await _refresh(client, stolen["refresh_token"])).json()
    replay = await _refresh(client, stolen["refresh_token"])
    assert replay.status == 401
    assert (await replay.json())["error"]["code"] == "invalid_refresh_token"
    # The legitimate holder's newer tokens die with the family.
    assert (await _refresh(client, owner["refresh_token"])).status == 401
    me = await client.get(ME, headers=bearer(owner))
    assert me.status == 401
    body = await me.json()
    assert body["error"]["code"] == "session_ended"
    assert body["error"]["details"]["reason"] == "refresh_token_reused"
    reuse = await events(client, "token.reuse_detected")
    assert [e.user_id for e in reuse] == [user.id]
    assert reuse[0].details["session_id"] == claims_of(stolen["access_token"])["sid"]


async def test_concurrent_use_of_one_token_succeeds_at_most_once(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    session = await login(client, user.email)
    answers = await asyncio.gather(*(_refresh(client, session["refresh_token"]) for _ in range(4)))
    assert sum(answer.status == 200 for answer in answers) <= 1
    assert all(answer.status in (200, 401) for answer in answers)


async def test_expired_refresh_token_is_refused_without_ending_the_session(
    client: Client, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await make_user()
    session = await login(client, user.email)
    real_now = tokens.utcnow
    monkeypatch.setattr(tokens, "utcnow", lambda: real_now() + timedelta(hours=12, seconds=1))
    late = await _refresh(client, session["refresh_token"])
    assert late.status == 401
    assert "expired" in (await late.json())["error"]["message"]
    monkeypatch.setattr(tokens, "utcnow", real_now)
    assert (await _refresh(client, session["refresh_token"])).status == 200


async def test_refresh_token_of_a_revoked_session_is_refused(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    old = await login(client, user.email)
    await login(client, user.email)  # single session: the first one ends
    response = await _refresh(client, old["refresh_token"])
    assert response.status == 401
    assert "session ended" in (await response.json())["error"]["message"]


async def test_cookie_refresh_needs_the_csrf_header(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    await login(client, user.email)
    before = cookie(client, "inv_refresh", "/api/v1/auth/refresh")
    assert before is not None
    assert cookie(client, "inv_refresh", "/api/v1/exams") is None  # path-scoped
    refused = await client.post(REFRESH)
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "csrf_failed"
    forged = await client.post(REFRESH, headers={"X-CSRF-Token": "x" * 43})
    assert forged.status == 403
    accepted = await client.post(REFRESH, headers=csrf_header(client))
    assert accepted.status == 200, await accepted.text()
    assert cookie(client, "inv_refresh", "/api/v1/auth/refresh") not in (None, before)


@pytest.mark.parametrize(
    "body",
    [{"refresh_token": "x" * 300}, {"refresh_token": 5}, {"token": "abc"}, ["not", "an", "object"]],
)
async def test_malformed_refresh_body_is_422(client: Client, body: Any) -> None:
    response = await client.post(REFRESH, json=body)
    assert response.status == 422


async def test_unknown_refresh_token_is_401(client: Client) -> None:
    response = await _refresh(client, "A" * 43)
    assert response.status == 401
    assert (await client.post(REFRESH)).status == 401  # no cookie, no body


async def test_refresh_tokens_expire_with_the_session(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    session = await login(client, user.email)
    async with services_of(client).db.session() as db:
        row = (await db.execute(select(RefreshToken))).scalars().one()
        auth = await db.get(AuthSession, row.session_id)
        assert auth is not None
        assert row.expires_at == auth.expires_at
        hours = (auth.expires_at - auth.created_at).total_seconds() / 3600
        assert round(hours) == 12
        spent = await db.execute(select(RefreshToken).where(col(RefreshToken.used_at).is_not(None)))
        assert list(spent.scalars()) == []
    assert session["expires_in"] == 600
