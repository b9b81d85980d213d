"""Only examiners and admins use the bank: candidates and proctors get 403, anonymous 401."""

from __future__ import annotations

import pytest

from storage.tables.user import Role
from tests.questions.conftest import ActAs, Client, MakeUser, single_choice

ROUTES = [
    ("GET", "/api/v1/questions"),
    ("POST", "/api/v1/questions"),
    ("GET", "/api/v1/questions/1"),
    ("PUT", "/api/v1/questions/1"),
    ("DELETE", "/api/v1/questions/1"),
    ("GET", "/api/v1/questions/1/versions"),
    ("GET", "/api/v1/question-categories"),
    ("POST", "/api/v1/question-categories"),
    ("POST", "/api/v1/questions/import?format=gift"),
    ("GET", "/api/v1/questions/export?format=gift"),
]


async def statuses(client: Client) -> dict[str, int]:
    result = {}
    for method, path in ROUTES:
        response = await client.request(method, path, json={"title": "x"})
        result[f"{method} {path}"] = response.status
    return result


@pytest.mark.parametrize(("role", "expected"), [(Role.CANDIDATE, 403), (Role.PROCTOR, 403)])
async def test_other_roles_are_forbidden(
    client: Client, make_user: MakeUser, act_as: ActAs, role: Role, expected: int
) -> None:
    act_as.user(await make_user(Role.EXAMINER))
    created = await client.post("/api/v1/questions", json=single_choice())
    assert created.status == 201
    act_as.user(await make_user(role))
    assert set((await statuses(client)).values()) == {expected}
    act_as.user(None)
    assert set((await statuses(client)).values()) == {401}


async def test_admin_may_use_the_bank(client: Client, make_user: MakeUser, act_as: ActAs) -> None:
    act_as.user(await make_user(Role.ADMIN))
    response = await client.post("/api/v1/questions", json=single_choice())
    assert response.status == 201
    allowed = await statuses(client)
    assert all(status not in (401, 403) for status in allowed.values()), allowed
