"""Signing in: cookies and their flags, CSRF, uniform failures, input limits, the caller."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update
from sqlmodel import col

from storage.passwords import needs_rehash
from storage.tables.user import Role, User
from tests.accounts.auth_support import (
    LOGIN,
    LOGOUT,
    ME,
    claims_of,
    csrf_header,
    kinds,
    services_of,
    set_cookies,
)
from tests.accounts.conftest import PASSWORD, Client, MakeUser, bearer, login


async def test_login_sets_three_cookies_with_the_documented_flags(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    response = await client.post(LOGIN, json={"email": user.email, "password": PASSWORD})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["email"] == user.email
    assert "password_hash" not in body["user"]
    cookies = set_cookies(response)
    access, refresh, csrf = cookies["inv_access"], cookies["inv_refresh"], cookies["inv_csrf"]
    for flag in ("HttpOnly", "SameSite=Lax", "Path=/;"):
        assert flag in access
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/api/v1/auth"):
        assert flag in refresh
    assert "HttpOnly" not in csrf
    assert "SameSite=Strict" in csrf
    assert f"inv_csrf={body['csrf_token']};" in csrf
    assert all("Secure" not in header for header in cookies.values())  # http public URL


@pytest.mark.parametrize("accounts_config", ["secure_cookies = true"])
async def test_cookies_are_secure_when_configured(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    response = await client.post(LOGIN, json={"email": user.email, "password": PASSWORD})
    assert all("Secure" in header for header in set_cookies(response).values())


async def test_email_is_case_insensitive(client: Client, make_user: MakeUser) -> None:
    user = await make_user(email="Mixed.Case@Example.com")
    await login(client, "  MIXED.case@example.COM ")
    assert user.email == "mixed.case@example.com"


async def test_cookie_writes_need_the_csrf_header(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    await login(client, user.email)
    assert (await client.get(ME)).status == 200  # safe method: cookie alone is enough
    missing = await client.post(LOGOUT)
    assert missing.status == 403
    assert (await missing.json())["error"]["code"] == "csrf_failed"
    wrong = await client.post(LOGOUT, headers={"X-CSRF-Token": "not-the-token"})
    assert wrong.status == 403
    assert (await client.post(LOGOUT, headers=csrf_header(client))).status == 204


async def test_a_planted_matching_cookie_and_header_do_not_pass(
    client: Client, make_user: MakeUser
) -> None:
    """Double submit alone would accept any equal pair; the token is bound to the session."""
    user = await make_user()
    await login(client, user.email)
    client.session.cookie_jar.update_cookies({"inv_csrf": "planted"}, client.make_url("/"))
    response = await client.post(LOGOUT, headers={"X-CSRF-Token": "planted"})
    assert response.status == 403


async def test_bearer_writes_need_no_csrf(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    session = await login(client, user.email)
    client.session.cookie_jar.clear()
    assert (await client.post(LOGOUT, headers=bearer(session))).status == 204


async def _failure(client: Client, email: str, password: str) -> dict[str, Any]:
    response = await client.post(LOGIN, json={"email": email, "password": password})
    assert response.status == 401
    assert "Set-Cookie" not in response.headers
    body: dict[str, Any] = await response.json()
    body["error"].pop("request_id")
    return body


async def test_unknown_email_wrong_password_and_disabled_answer_alike(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    disabled = await make_user(is_active=False)
    unknown = await _failure(client, "nobody@example.com", PASSWORD)
    wrong = await _failure(client, user.email, "not the password")
    off = await _failure(client, disabled.email, PASSWORD)
    assert unknown == wrong == off
    assert unknown["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a" * 250 + "@example.com", "password": PASSWORD},
        {"email": "someone@example.com", "password": "p" * 129},
        {"email": "someone@example.com", "password": 12345678},
        {"email": ["someone@example.com"], "password": PASSWORD},
        {"email": "someone@example.com"},
        {"email": "someone@example.com", "password": PASSWORD, "role": "admin"},
        {"email": "", "password": PASSWORD},
    ],
)
async def test_bad_login_input_is_422_and_writes_nothing(
    client: Client, make_user: MakeUser, body: dict[str, Any]
) -> None:
    await make_user(email="someone@example.com")
    response = await client.post(LOGIN, json=body)
    assert response.status == 422
    assert await kinds(client) == []


async def test_a_huge_body_is_refused_before_parsing(client: Client) -> None:
    response = await client.post(
        LOGIN,
        data=b'{"email": "' + b"a" * 11_000_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413


async def test_me_and_renaming(client: Client, make_user: MakeUser) -> None:
    user = await make_user(Role.EXAMINER)
    session = await login(client, user.email)
    me = await (await client.get(ME, headers=bearer(session))).json()
    assert me["user"]["id"] == user.id
    assert me["roles"] == ["examiner"]
    assert me["session_id"] == claims_of(session["access_token"])["sid"]
    renamed = await client.patch(
        ME, json={"display_name": "  Eve Examiner "}, headers=bearer(session)
    )
    assert renamed.status == 200
    assert (await renamed.json())["user"]["display_name"] == "Eve Examiner"
    for bad in ("", "x" * 121, "line\nbreak", 5):
        refused = await client.patch(ME, json={"display_name": bad}, headers=bearer(session))
        assert refused.status == 422, bad


async def test_me_needs_sign_in(client: Client) -> None:
    response = await client.get(ME)
    assert response.status == 401
    assert (await client.post(LOGOUT)).status == 401


async def test_garbage_access_cookie_counts_as_anonymous_on_public_routes(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    client.session.cookie_jar.update_cookies({"inv_access": "garbage"}, client.make_url("/"))
    await login(client, user.email)
    client.session.cookie_jar.update_cookies({"inv_access": "garbage"}, client.make_url("/"))
    assert (await client.get(ME)).status == 401


async def test_weak_hash_parameters_are_upgraded_at_sign_in(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    services = services_of(client)
    async with services.db.session() as db:
        await db.execute(update(User).where(col(User.id) == user.id).values(password_hash=weak))
        await db.commit()
    await login(client, user.email)
    async with services.db.session() as db:
        stored = await db.get(User, user.id)
    assert stored is not None
    assert stored.password_hash != weak
    assert not needs_rehash(stored.password_hash)
