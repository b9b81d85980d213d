"""The audit log API: filters, newest first, pagination, admins only, and rows written by the
admin API carry the acting admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from plugins.accounts import audit
from plugins.accounts.tables import SecurityEvent
from storage.tables.user import Role, User
from tests.accounts.conftest import ActAs, Client, MakeUser
from webapp.keys import SERVICES, Principal

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def admin(make_user: MakeUser, act_as: ActAs) -> User:
    user = await make_user(Role.ADMIN)
    act_as.user(user)
    return user


async def _seed(client: Client) -> None:
    """Five events an hour apart: logins of users 1 and 2, a failure, a role change."""
    rows = [
        ("login.succeeded", 1, None),
        ("login.failed", 2, None),
        ("login.succeeded", 2, None),
        ("user.role_changed", 2, 1),
        ("login.succeeded", 1, None),
    ]
    async with client.app[SERVICES].db.session() as db:
        for hour, (kind, user_id, actor_id) in enumerate(rows):
            event = audit.record(db, kind, user_id=user_id, actor_id=actor_id, n=hour)
            event.ts = T0 + timedelta(hours=hour)
        await db.commit()


async def _query(client: Client, query: str = "") -> dict:  # type: ignore[type-arg]
    response = await client.get(f"/api/v1/audit?{query}")
    assert response.status == 200, await response.text()
    return await response.json()  # type: ignore[no-any-return]


def _ns(page: dict) -> list[int]:  # type: ignore[type-arg]
    return [item["details"]["n"] for item in page["items"]]


async def test_newest_first_with_filters_and_pages(client: Client, admin: User) -> None:
    await _seed(client)
    everything = await _query(client)
    assert everything["total"] == 5
    assert _ns(everything) == [4, 3, 2, 1, 0]
    item = everything["items"][1]
    assert set(item) == {"id", "ts", "kind", "user_id", "actor_id", "ip", "user_agent", "details"}
    assert (item["kind"], item["user_id"], item["actor_id"]) == ("user.role_changed", 2, 1)

    assert _ns(await _query(client, "kind=login.succeeded")) == [4, 2, 0]
    assert _ns(await _query(client, "user_id=2")) == [3, 2, 1]
    assert _ns(await _query(client, "user_id=2&kind=login.succeeded")) == [2]
    since = quote((T0 + timedelta(hours=1)).isoformat())
    until = quote((T0 + timedelta(hours=3)).isoformat())
    assert _ns(await _query(client, f"since={since}&until={until}")) == [2, 1]
    assert _ns(await _query(client, "since=2026-03-01T14:00:00")) == [4, 3, 2]  # naive = UTC
    assert _ns(await _query(client, "since=2026-03-01T15:00:00%2B01:00")) == [4, 3, 2]
    page = await _query(client, "limit=2&offset=1")
    assert (page["total"], _ns(page)) == (5, [3, 2])
    assert await _query(client, "kind=no.such") == {"items": [], "total": 0}


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=201", "offset=-1", "user_id=abc", "since=yesterday", "kind=" + "k" * 49],
)
async def test_bad_filters_are_rejected(client: Client, admin: User, query: str) -> None:
    response = await client.get(f"/api/v1/audit?{query}")
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "validation_error"


@pytest.mark.parametrize("role", [Role.CANDIDATE, Role.PROCTOR, Role.EXAMINER])
async def test_only_admins_read_the_log(
    client: Client, act_as: ActAs, make_user: MakeUser, role: Role
) -> None:
    act_as.user(await make_user(role))
    assert (await client.get("/api/v1/audit")).status == 403
    act_as.user(None)
    assert (await client.get("/api/v1/audit")).status == 401


async def test_admin_changes_are_audited_with_the_acting_admin(
    client: Client, admin: User, make_user: MakeUser
) -> None:
    target = await make_user(Role.CANDIDATE)
    await client.patch(f"/api/v1/users/{target.id}", json={"role": "proctor"})
    await client.post(
        "/api/v1/users", json={"email": "x@example.com", "display_name": "X", "password": None}
    )
    page = await _query(client, f"user_id={target.id}")
    kinds = {item["kind"]: item for item in page["items"]}
    assert kinds["user.role_changed"]["actor_id"] == admin.id
    assert kinds["user.role_changed"]["ip"] == "127.0.0.1"
    created = await _query(client, "kind=user.created")
    assert [item["actor_id"] for item in created["items"]] == [admin.id]
    assert all(isinstance(item["ts"], str) for item in created["items"])


async def test_audit_rows_commit_with_the_change_or_not_at_all(
    client: Client, act_as: ActAs, make_user: MakeUser
) -> None:
    """The role change below is applied and audited, then refused at the end of the
    transaction (it would leave no admin): its audit rows must vanish with it."""
    only_admin = await make_user(Role.ADMIN)
    act_as.principal = Principal(user_id="cli_lms", roles=frozenset({"admin"}))
    response = await client.patch(f"/api/v1/users/{only_admin.id}", json={"role": "proctor"})
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "last_admin"
    assert await _query(client) == {"items": [], "total": 0}
    async with client.app[SERVICES].db.session() as db:
        assert await db.get(SecurityEvent, 1) is None
