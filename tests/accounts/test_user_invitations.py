"""Accounts created by an admin: invitations by mail, and passwords as the policy stores them."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlmodel import col

from plugins.accounts.tables import PasswordResetToken
from storage.passwords import verify_password
from storage.tables.user import Role, User
from tests.accounts.admin_support import audit_rows
from tests.accounts.conftest import ActAs, Client, MakeUser, login
from webapp.keys import SERVICES

STRONG = "plum-orbit-cactus-1957"


@pytest.fixture
async def admin(make_user: MakeUser, act_as: ActAs) -> User:
    user = await make_user(Role.ADMIN, email="boss@example.com", display_name="Boss")
    act_as.user(user)
    return user


async def _user_row(client: Client, user_id: int) -> User:
    async with client.app[SERVICES].db.session() as db:
        user = await db.get(User, user_id)
    assert user is not None
    return user


async def test_create_without_password_sends_an_invitation(client: Client, admin: User) -> None:
    services = client.app[SERVICES]
    response = await client.post(
        "/api/v1/users",
        json={"email": "invitee@example.com", "display_name": "Ivy Invitee", "role": "candidate"},
    )
    assert response.status == 201, await response.text()
    user_id = (await response.json())["id"]

    [info] = await services.blobs.list("outbox/")
    assert info.key.endswith(".eml")
    message = message_from_bytes(await services.blobs.get(info.key), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "invitee@example.com"
    assert message["To"].addresses[0].display_name == "Ivy Invitee"
    text = message.get_content()
    link = next(word for word in text.split() if "/reset?token=" in word)
    assert link.startswith(services.settings.effective_public_url + "/reset?")
    raw = parse_qs(urlsplit(link).query)["token"][0]

    async with services.db.session() as db:
        [token] = (await db.execute(select(PasswordResetToken))).scalars().all()
    assert token.user_id == user_id
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in json.dumps(token.model_dump(mode="json"))
    lifetime = token.expires_at - token.created_at
    assert timedelta(hours=71) < lifetime <= timedelta(hours=72)
    row = await _user_row(client, user_id)
    assert not verify_password(row.password_hash, "")
    [event] = await audit_rows(services, "user.created")
    assert event.details["invited"] is True


async def test_users_created_by_the_api_can_use_their_password(client: Client, admin: User) -> None:
    """The stored hash is of the NFKC-normalised password the policy returned."""
    fullwidth_plum = "\uff50\uff4c\uff55\uff4d"
    response = await client.post(
        "/api/v1/users",
        json={
            "email": "n@example.com",
            "display_name": "N",
            "password": f"{fullwidth_plum}-orbit-99",
        },
    )
    row = await _user_row(client, (await response.json())["id"])
    assert verify_password(row.password_hash, "plum-orbit-99")
    assert row.updated_at <= datetime.now(UTC)
    async with client.app[SERVICES].db.session() as db:
        emails = (await db.execute(select(col(User.email)).order_by(col(User.id)))).scalars()
        assert list(emails) == ["boss@example.com", "n@example.com"]


async def test_an_invitation_link_sets_the_password(client: Client, admin: User) -> None:
    """End to end with the auth API: the invited person follows the link, then signs in."""
    services = client.app[SERVICES]
    await client.post(
        "/api/v1/users", json={"email": "ivy@example.com", "display_name": "Ivy", "role": "proctor"}
    )
    [info] = await services.blobs.list("outbox/")
    text = message_from_bytes(await services.blobs.get(info.key), policy=policy.default)
    link = next(w for w in text.get_content().split() if "/reset?token=" in w)
    token = parse_qs(urlsplit(link).query)["token"][0]
    reset = await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": STRONG}
    )
    assert reset.status == 204, await reset.text()
    again = await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": STRONG + "!"}
    )
    assert again.status == 400  # single use
    signed_in = await login(client, "ivy@example.com", STRONG)
    assert signed_in["user"]["role"] == "proctor"
