"""Passwords: forgot and reset by mailed link, change, the policy, and self-registration."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from plugins.accounts.tables import PasswordResetToken
from tests.accounts.auth_support import LOGIN, ME, outbox, services_of
from tests.accounts.conftest import PASSWORD, Client, MakeUser, bearer, login

FORGOT = "/api/v1/auth/password/forgot"
RESET = "/api/v1/auth/password/reset"
CHANGE = "/api/v1/auth/password"
REGISTER = "/api/v1/auth/register"
NEW_PASSWORD = "violet lantern across the bay"


async def _mailed_token(client: Client, email: str) -> str:
    response = await client.post(FORGOT, json={"email": email})
    assert response.status == 202
    [mail] = await outbox(client)
    assert mail["To"].addresses[0].addr_spec == email
    assert "reset" in mail["Subject"].lower()
    match = re.search(r"/reset\?token=([A-Za-z0-9_-]+)", mail.get_content())
    assert match is not None
    return match.group(1)


async def test_forgot_answers_the_same_whether_or_not_the_account_exists(
    client: Client, make_user: MakeUser
) -> None:
    user = await make_user()
    known = await client.post(FORGOT, json={"email": user.email})
    unknown = await client.post(FORGOT, json={"email": "nobody@example.com"})
    assert known.status == unknown.status == 202
    assert await known.json() == await unknown.json() == {"status": "sent if the account exists"}
    mails = await outbox(client, expect=2, timeout=0.5)
    assert [m["To"].addresses[0].addr_spec for m in mails] == [user.email]


async def test_reset_end_to_end(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    token = await _mailed_token(client, user.email)
    weak = await client.post(RESET, json={"token": token, "new_password": "password"})
    assert weak.status == 422  # policy first: the link is not spent by a rejected password
    done = await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status == 204, await done.text()
    await login(client, user.email, NEW_PASSWORD)
    old = await client.post(LOGIN, json={"email": user.email, "password": PASSWORD})
    assert old.status == 401
    again = await client.post(RESET, json={"token": token, "new_password": "another fine phrase"})
    assert again.status == 400
    assert (await again.json())["error"]["code"] == "invalid_reset_token"


async def test_reset_link_expires(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    token = await _mailed_token(client, user.email)
    async with services_of(client).db.session() as db:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await db.execute(update(PasswordResetToken).values(expires_at=past))
        await db.commit()
    response = await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status == 400


async def test_reset_with_an_unknown_token(client: Client) -> None:
    response = await client.post(RESET, json={"token": "x" * 43, "new_password": NEW_PASSWORD})
    assert response.status == 400
    too_long = await client.post(RESET, json={"token": "x" * 300, "new_password": NEW_PASSWORD})
    assert too_long.status == 422


@pytest.mark.parametrize(
    ("new_password", "fragment"),
    [
        ("short", "at least 8"),
        ("password1", "too common"),
        ("aaaaaaaaaaaa", "too common"),
        ("candidate1@example.com", "email"),
    ],
)
async def test_change_password_enforces_the_policy(
    client: Client, make_user: MakeUser, new_password: str, fragment: str
) -> None:
    user = await make_user(email="candidate1@example.com")
    session = await login(client, user.email)
    response = await client.post(
        CHANGE,
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=bearer(session),
    )
    assert response.status == 422
    assert fragment in (await response.json())["error"]["message"]
    assert (await client.get(ME, headers=bearer(session))).status == 200  # nothing ended


async def test_change_password_needs_the_current_one(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    session = await login(client, user.email)
    response = await client.post(
        CHANGE,
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=bearer(session),
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "wrong_password"
    too_long = await client.post(
        CHANGE,
        json={"current_password": PASSWORD, "new_password": "n" * 129},
        headers=bearer(session),
    )
    assert too_long.status == 422


async def test_registration_is_off_by_default(client: Client) -> None:
    body = {"email": "new@example.com", "display_name": "New", "password": NEW_PASSWORD}
    assert (await client.post(REGISTER, json=body)).status == 404


@pytest.mark.parametrize("accounts_config", ["self_registration = true"])
async def test_registration_creates_a_candidate(client: Client, make_user: MakeUser) -> None:
    body = {"email": "New@Example.com", "display_name": "Nia New", "password": NEW_PASSWORD}
    response = await client.post(REGISTER, json=body)
    assert response.status == 201, await response.text()
    created = await response.json()
    assert created["role"] == "candidate"
    assert created["email"] == "new@example.com"
    assert "password_hash" not in created
    await login(client, "new@example.com", NEW_PASSWORD)
    assert (await client.post(REGISTER, json=body)).status == 409
    escalate = {**body, "email": "x@example.com", "role": "admin"}
    assert (await client.post(REGISTER, json=escalate)).status == 422
    weak = {**body, "email": "y@example.com", "password": "password"}
    assert (await client.post(REGISTER, json=weak)).status == 422
    bad_email = {**body, "email": "not-an-email"}
    assert (await client.post(REGISTER, json=bad_email)).status == 422
