"""API clients: the secret is shown once and stored only as an Argon2id hash."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from plugins.accounts.tables import ApiClient
from storage.passwords import verify_password
from storage.tables.user import Role, User
from tests.accounts.admin_support import audit_rows, snapshot
from tests.accounts.conftest import ActAs, Client, MakeUser
from webapp.keys import SERVICES


@pytest.fixture
async def admin(make_user: MakeUser, act_as: ActAs) -> User:
    user = await make_user(Role.ADMIN)
    act_as.user(user)
    return user


async def test_api_clients(client: Client, admin: User) -> None:
    services = client.app[SERVICES]
    response = await client.post(
        "/api/v1/clients", json={"name": "Moodle", "roles": ["examiner", "proctor", "examiner"]}
    )
    assert response.status == 201, await response.text()
    created = await response.json()
    secret = created["client_secret"]
    assert len(secret) >= 40
    assert created["roles"] == ["examiner", "proctor"]
    async with services.db.session() as db:
        row = (await db.execute(select(ApiClient))).scalars().one()
    assert row.secret_hash.startswith("$argon2id$")
    assert verify_password(row.secret_hash, secret)
    assert secret not in json.dumps(await snapshot(services), default=str)

    listed = await (await client.get("/api/v1/clients")).json()
    assert [c["client_id"] for c in listed] == [created["client_id"]]
    assert "client_secret" not in listed[0]
    assert secret not in json.dumps(listed)

    before = await snapshot(services)
    for bad in (
        {"name": "x", "roles": ["candidate"]},
        {"name": "x", "roles": []},
        {"name": "x" * 121, "roles": ["admin"]},
        {"name": "x", "roles": "admin"},
    ):
        assert (await client.post("/api/v1/clients", json=bad)).status == 422, bad
    assert await snapshot(services) == before

    deleted = await client.delete(f"/api/v1/clients/{created['client_id']}")
    assert deleted.status == 204
    assert (await client.delete(f"/api/v1/clients/{created['client_id']}")).status == 404
    assert await (await client.get("/api/v1/clients")).json() == []
    kinds = [(e.kind, e.actor_id, e.details["client_id"]) for e in await audit_rows(services)]
    assert kinds == [
        ("client.created", admin.id, created["client_id"]),
        ("client.deleted", admin.id, created["client_id"]),
    ]
