"""Admin users API: listing, creating, reading, changing and bulk-changing accounts — each
change audited, bad input leaving nothing behind."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from core.channels import SESSION_REVOKED
from plugins.accounts import sessions
from storage.passwords import verify_password
from storage.tables.user import Role, User
from tests.accounts.admin_support import audit_rows, snapshot
from tests.accounts.conftest import ActAs, Client, MakeUser
from webapp.keys import SERVICES, Principal

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


async def _open_session(client: Client, user: User) -> str:
    async with client.app[SERVICES].db.session() as db:
        assert user.id is not None
        session, _ = await sessions.start_session(db, user_id=user.id, lifetime=timedelta(hours=1))
        await db.commit()
    return session.id


async def test_list_filters_and_paginates(client: Client, admin: User, make_user: MakeUser) -> None:
    await make_user(Role.CANDIDATE, email="zoe.percent@example.com", display_name="Zoë 100%")
    await make_user(Role.CANDIDATE, email="zed@example.com", display_name="Zed", is_active=False)
    for _ in range(3):
        await make_user(Role.PROCTOR)

    everyone = await (await client.get("/api/v1/users?limit=200")).json()
    assert everyone["total"] == 6
    assert "password_hash" not in everyone["items"][0]

    page = await (await client.get("/api/v1/users?limit=2&offset=2")).json()
    assert page["total"] == 6
    assert [u["id"] for u in page["items"]] == [u["id"] for u in everyone["items"][2:4]]

    by_q = await (await client.get("/api/v1/users?q=ZOË")).json()
    assert [u["email"] for u in by_q["items"]] == ["zoe.percent@example.com"]
    percent = await (await client.get("/api/v1/users?q=%25")).json()  # literal %, not wildcard
    assert [u["email"] for u in percent["items"]] == ["zoe.percent@example.com"]
    proctors = await (await client.get("/api/v1/users?role=proctor")).json()
    assert proctors["total"] == 3
    inactive = await (await client.get("/api/v1/users?active=false")).json()
    assert [u["email"] for u in inactive["items"]] == ["zed@example.com"]

    for bad in ("limit=201", "limit=0", "offset=-1", "role=owner", "active=maybe", "sort=id"):
        response = await client.get(f"/api/v1/users?{bad}")
        assert response.status == 422, bad


async def test_create_with_password(client: Client, admin: User) -> None:
    body = {"email": "New.Person@Example.com", "display_name": "  New Person ", "role": "examiner"}
    response = await client.post("/api/v1/users", json={**body, "password": STRONG})
    assert response.status == 201, await response.text()
    created = await response.json()
    assert created["email"] == "new.person@example.com"
    assert created["display_name"] == "New Person"
    assert created["role"] == "examiner"
    assert set(created) == {"id", "email", "display_name", "role", "is_active", "created_at"}
    row = await _user_row(client, created["id"])
    assert verify_password(row.password_hash, STRONG)
    [event] = await audit_rows(client.app[SERVICES], "user.created")
    assert (event.user_id, event.actor_id) == (created["id"], admin.id)
    assert event.details["invited"] is False
    assert await client.app[SERVICES].blobs.list("outbox/") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com", "display_name": "x" * 121}, "display_name"),
        ({"email": "a@example.com", "display_name": "Line\nBreak"}, "display_name"),
        ({"email": "a@example.com", "display_name": "   "}, "display_name"),
        ({"email": "a@example.com", "display_name": "Eve\u202egpj.exe"}, "display_name"),
        ({"email": "not-an-email", "display_name": "A"}, "email"),
        ({"email": "a" * 250 + "@example.com", "display_name": "A"}, "email"),
        ({"email": "a@example.com", "display_name": "A", "role": "owner"}, "role"),
        ({"email": "a@example.com", "display_name": "A", "role": 3}, "role"),
        ({"email": ["a@example.com"], "display_name": "A"}, "email"),
        ({"email": "a@example.com", "display_name": "A", "is_admin": True}, "is_admin"),
        ({"email": "a@example.com", "display_name": "A", "password": "x" * 1025}, "password"),
    ],
)
async def test_create_rejects_bad_input_and_writes_nothing(
    client: Client, admin: User, body: dict[str, object], field: str
) -> None:
    before = await snapshot(client.app[SERVICES])
    response = await client.post("/api/v1/users", json=body)
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "validation_error"
    assert any(item["loc"][1] == field for item in error["details"]), error
    assert await snapshot(client.app[SERVICES]) == before


@pytest.mark.parametrize("password", ["password", "short", "boss@example.org", "y" * 129])
async def test_create_applies_the_password_policy(
    client: Client, admin: User, password: str
) -> None:
    before = await snapshot(client.app[SERVICES])
    response = await client.post(
        "/api/v1/users",
        json={"email": "boss@example.org", "display_name": "B", "password": password},
    )
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "invalid_input"
    assert await snapshot(client.app[SERVICES]) == before


async def test_create_refuses_a_taken_email(client: Client, admin: User) -> None:
    before = await snapshot(client.app[SERVICES])
    response = await client.post(
        "/api/v1/users", json={"email": "BOSS@example.com", "display_name": "Other"}
    )
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "email_taken"
    assert await snapshot(client.app[SERVICES]) == before


async def test_read_user_admin_self_and_others(
    client: Client, act_as: ActAs, make_user: MakeUser
) -> None:
    admin = await make_user(Role.ADMIN)
    alice = await make_user(Role.CANDIDATE)
    bob = await make_user(Role.PROCTOR)
    act_as.user(admin)
    assert (await client.get(f"/api/v1/users/{alice.id}")).status == 200
    act_as.user(alice)
    own = await client.get(f"/api/v1/users/{alice.id}")
    assert (await own.json())["email"] == alice.email
    other = await client.get(f"/api/v1/users/{bob.id}")
    missing = await client.get("/api/v1/users/999999")
    assert other.status == missing.status == 404
    other_error, missing_error = (await other.json())["error"], (await missing.json())["error"]
    assert (other_error["code"], other_error["message"]) == (
        missing_error["code"],
        missing_error["message"],
    )
    act_as.user(admin)
    for weird in ("abc", "1_0", "%EF%BC%91", "-1", "1" * 30):
        assert (await client.get(f"/api/v1/users/{weird}")).status == 404, weird


async def test_role_change_ends_sessions_everywhere(
    client: Client, admin: User, make_user: MakeUser
) -> None:
    services = client.app[SERVICES]
    target = await make_user(Role.PROCTOR)
    session_id = await _open_session(client, target)
    assert await sessions.is_active(services, session_id)
    async with services.bus.subscribe(SESSION_REVOKED) as messages:
        response = await client.patch(f"/api/v1/users/{target.id}", json={"role": "examiner"})
        assert response.status == 200, await response.text()
        message = json.loads(await asyncio.wait_for(anext(messages), 2))
    assert (await response.json())["role"] == "examiner"
    assert message == {
        "session_id": session_id,
        "user_id": str(target.id),
        "reason": "role_changed",
    }
    assert not await sessions.is_active(services, session_id)
    [changed] = await audit_rows(services, "user.role_changed")
    assert (changed.user_id, changed.actor_id) == (target.id, admin.id)
    assert changed.details == {"old": "proctor", "new": "examiner"}
    [revoked] = await audit_rows(services, "session.revoked")
    assert revoked.details["reason"] == "role_changed"


async def test_disable_and_enable(client: Client, admin: User, make_user: MakeUser) -> None:
    services = client.app[SERVICES]
    target = await make_user(Role.CANDIDATE)
    session_id = await _open_session(client, target)
    response = await client.patch(f"/api/v1/users/{target.id}", json={"is_active": False})
    assert (await response.json())["is_active"] is False
    assert not await sessions.is_active(services, session_id)
    [revoked] = await audit_rows(services, "session.revoked")
    assert revoked.details["reason"] == "account_disabled"
    await client.patch(f"/api/v1/users/{target.id}", json={"is_active": True})
    assert (await _user_row(client, target.id or 0)).is_active
    kinds = [e.kind for e in await audit_rows(services) if e.kind.startswith("user.")]
    assert kinds == ["user.disabled", "user.enabled"]
    await client.patch(f"/api/v1/users/{target.id}", json={"display_name": "Renamed"})
    [updated] = await audit_rows(services, "user.updated")
    assert updated.actor_id == admin.id


@pytest.mark.parametrize("change", [{"role": "proctor"}, {"is_active": False}])
async def test_admin_cannot_demote_or_disable_themself(
    client: Client, admin: User, change: dict[str, object]
) -> None:
    before = await snapshot(client.app[SERVICES])
    response = await client.patch(f"/api/v1/users/{admin.id}", json=change)
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["code"] == "own_account"
    assert "your own account" in error["message"]
    assert await snapshot(client.app[SERVICES]) == before
    rename = await client.patch(f"/api/v1/users/{admin.id}", json={"display_name": "Big Boss"})
    assert rename.status == 200


async def test_the_last_admin_cannot_be_removed(
    client: Client, act_as: ActAs, make_user: MakeUser
) -> None:
    only_admin = await make_user(Role.ADMIN)
    act_as.principal = Principal(user_id="cli_integration", roles=frozenset({"admin"}))
    before = await snapshot(client.app[SERVICES])
    response = await client.patch(f"/api/v1/users/{only_admin.id}", json={"role": "proctor"})
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "last_admin"
    assert await snapshot(client.app[SERVICES]) == before


@pytest.mark.parametrize(
    "body",
    [
        {"role": "superuser"},
        {"is_active": "sometimes"},
        {"display_name": ""},
        {"display_name": 42},
        {"email": "new@example.com"},
    ],
)
async def test_patch_rejects_bad_input(
    client: Client, admin: User, make_user: MakeUser, body: dict[str, object]
) -> None:
    target = await make_user(Role.CANDIDATE)
    before = await snapshot(client.app[SERVICES])
    response = await client.patch(f"/api/v1/users/{target.id}", json=body)
    assert response.status == 422
    assert await snapshot(client.app[SERVICES]) == before


async def test_bulk_is_all_or_nothing(client: Client, admin: User, make_user: MakeUser) -> None:
    services = client.app[SERVICES]
    users = [await make_user(Role.CANDIDATE) for _ in range(3)]
    ids = [u.id for u in users]
    before = await snapshot(services)
    for body, status in [
        ({"user_ids": [*ids, 999999], "action": "disable"}, 404),
        ({"user_ids": [*ids, admin.id], "action": "disable"}, 409),
        ({"user_ids": [*ids, admin.id], "action": "set_role", "role": "examiner"}, 409),
        ({"user_ids": ids, "action": "set_role"}, 422),
        ({"user_ids": ids, "action": "disable", "role": "admin"}, 422),
        ({"user_ids": ids, "action": "delete"}, 422),
        ({"user_ids": [], "action": "disable"}, 422),
        ({"user_ids": list(range(1, 1002)), "action": "disable"}, 422),
    ]:
        response = await client.post("/api/v1/users/bulk", json=body)
        assert response.status == status, (body, await response.text())
        assert await snapshot(services) == before, body

    response = await client.post("/api/v1/users/bulk", json={"user_ids": ids, "action": "disable"})
    assert await response.json() == {"updated": 3}
    assert len(await audit_rows(services, "user.disabled")) == 3
    assert all(e.actor_id == admin.id for e in await audit_rows(services, "user.disabled"))
    again = await client.post("/api/v1/users/bulk", json={"user_ids": ids, "action": "disable"})
    assert await again.json() == {"updated": 0}
    body = {"user_ids": ids[:2], "action": "set_role", "role": "proctor"}
    assert await (await client.post("/api/v1/users/bulk", json=body)).json() == {"updated": 2}
    assert [str((await _user_row(client, i or 0)).role) for i in ids] == [
        "proctor",
        "proctor",
        "candidate",
    ]
