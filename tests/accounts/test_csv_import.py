"""CSV import: the whole file is validated first; one bad row means nobody is created."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlmodel import col

from storage.passwords import verify_password
from storage.tables.user import Role, User
from tests.accounts.admin_support import audit_rows, snapshot
from tests.accounts.conftest import ActAs, Client, MakeUser
from webapp.keys import SERVICES

CSV = {"Content-Type": "text/csv"}
GOOD = (
    "email,display_name,role,password\n"
    "ana@example.com,Ana Alves,candidate,plum-orbit-cactus-1957\n"
    '"bo@example.com","Bo, the Second",proctor,\n'
    "CY@Example.com,Cy,examiner,\n"
)


@pytest.fixture
async def admin(make_user: MakeUser, act_as: ActAs) -> User:
    user = await make_user(Role.ADMIN, email="boss@example.com")
    act_as.user(user)
    return user


async def _import(client: Client, text: str | bytes, query: str = "") -> tuple[int, dict]:  # type: ignore[type-arg]
    body = text.encode() if isinstance(text, str) else text
    response = await client.post(f"/api/v1/users/import{query}", data=body, headers=CSV)
    return response.status, await response.json()


async def _emails(client: Client) -> list[str]:
    async with client.app[SERVICES].db.session() as db:
        return list((await db.execute(select(col(User.email)).order_by(col(User.id)))).scalars())


async def test_import_creates_everyone_and_invites_those_without_password(
    client: Client, admin: User
) -> None:
    services = client.app[SERVICES]
    status, body = await _import(client, "\ufeff" + GOOD)  # a BOM, as spreadsheets write it
    assert status == 200, body
    assert body == {"dry_run": False, "rows": 3, "created": 3, "invited": 2, "errors": []}
    assert await _emails(client) == [
        "boss@example.com",
        "ana@example.com",
        "bo@example.com",
        "cy@example.com",
    ]
    async with services.db.session() as db:
        users = {u.email: u for u in (await db.execute(select(User))).scalars()}
    assert users["bo@example.com"].display_name == "Bo, the Second"
    assert str(users["cy@example.com"].role) == "examiner"
    assert verify_password(users["ana@example.com"].password_hash, "plum-orbit-cactus-1957")
    assert len(await services.blobs.list("outbox/")) == 2

    [summary] = await audit_rows(services, "users.imported")
    assert summary.actor_id == admin.id
    assert summary.details == {"created": 3, "invited": 2, "with_password": 1}
    created = await audit_rows(services, "user.created")
    assert [e.details["line"] for e in created] == [2, 3, 4]
    assert {e.actor_id for e in created} == {admin.id}


async def test_dry_run_reports_and_writes_nothing(
    client: Client, admin: User, make_user: MakeUser
) -> None:
    await make_user(Role.CANDIDATE, email="taken@example.com")
    before = await snapshot(client.app[SERVICES])
    status, body = await _import(client, GOOD, "?dry_run=true")
    assert status == 200
    assert body == {"dry_run": True, "rows": 3, "created": 0, "invited": 2, "errors": []}
    bad = GOOD + "TAKEN@example.com,T,candidate,\n"
    status, body = await _import(client, bad, "?dry_run=true")
    assert status == 200
    assert body["errors"] == [
        {"line": 5, "message": "an account with email taken@example.com exists"}
    ]
    assert await snapshot(client.app[SERVICES]) == before


async def test_every_bad_row_is_reported_and_nothing_is_written(
    client: Client, admin: User, make_user: MakeUser
) -> None:
    await make_user(Role.CANDIDATE, email="taken@example.com")
    services = client.app[SERVICES]
    text = (
        "email,display_name,role,password\n"  # 1
        "ok@example.com,Okay,candidate,\n"  # 2: fine on its own
        "not-an-email,X,candidate,\n"  # 3
        "dup@example.com,D1,candidate,\n"  # 4
        "DUP@example.com,D2,candidate,\n"  # 5
        "taken@example.com,T,candidate,\n"  # 6
        "r@example.com,R,superuser,\n"  # 7
        "p@example.com,P,candidate,password\n"  # 8
        "f@example.com,F,candidate\n"  # 9
        f"n@example.com,{'n' * 121},candidate,\n"  # 10
        "\n"  # 11: blank, skipped
        '"q@example.com","multi\nline",candidate,\n'  # 12-13: a line break in a name
    )
    before = await snapshot(services)
    status, body = await _import(client, text)
    assert status == 422
    error = body["error"]
    assert error["code"] == "invalid_import"
    lines = {item["line"]: item["message"] for item in error["details"]}
    assert sorted(lines) == [3, 5, 6, 7, 8, 9, 10, 12]
    assert "not valid" in lines[3]
    assert "appears twice" in lines[5]
    assert "first on line 4" in lines[5]
    assert "exists" in lines[6]
    assert "superuser" in lines[7]
    assert "admin, examiner, proctor, candidate" in lines[7]
    assert "too common" in lines[8]
    assert "expected 4 fields, found 3" in lines[9]
    assert "120" in lines[10]
    assert "line breaks" in lines[12]
    assert await snapshot(services) == before


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "missing: email, display_name, role"),
        ("email,name,role\n", "unknown: name"),
        ("email,display_name,role,role\nx@example.com,X,admin,admin\n", "each once"),
        ('email,display_name,role\n"a@example.com,A,admin\n', "malformed CSV"),
    ],
)
async def test_bad_structure(client: Client, admin: User, text: str, fragment: str) -> None:
    before = await snapshot(client.app[SERVICES])
    status, body = await _import(client, text)
    assert status == 422
    assert any(fragment in item["message"] for item in body["error"]["details"]), body
    assert await snapshot(client.app[SERVICES]) == before


async def test_limits_and_types(client: Client, admin: User) -> None:
    services = client.app[SERVICES]
    before = await snapshot(services)

    response = await client.post(
        "/api/v1/users/import", data=GOOD, headers={"Content-Type": "application/json"}
    )
    assert response.status == 415

    big = GOOD.encode() + b"#" * (2 * 1024 * 1024 + 1)
    status, body = await _import(client, big)
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: capped while read
        for _ in range(20):
            yield b"x" * (64 * 1024)

    response = await client.post("/api/v1/users/import", data=chunks(), headers=CSV)
    assert response.status == 413

    status, body = await _import(
        client, "email,display_name,role\nj\xe9@example.com,J,admin\n".encode("latin-1")
    )
    assert status == 422
    assert body["error"]["details"] == [{"line": 2, "message": "not UTF-8"}]

    rows = "".join(f"u{i}@example.com,U {i},candidate\n" for i in range(1001))
    status, body = await _import(client, "email,display_name,role\n" + rows)
    assert status == 422
    assert body["error"]["details"][-1] == {
        "line": 1002,
        "message": "more than 1000 rows; split the file",
    }

    status, body = await _import(client, GOOD, "?dry_run=perhaps")
    assert status == 422
    assert await snapshot(services) == before


async def test_only_admins_import(client: Client, act_as: ActAs, make_user: MakeUser) -> None:
    act_as.user(await make_user(Role.EXAMINER))
    before = await snapshot(client.app[SERVICES])
    status, _ = await _import(client, GOOD)
    assert status == 403
    assert await snapshot(client.app[SERVICES]) == before
