"""Reading tickets: conditional polls (ETag, 304) and the staff table's filters."""

from __future__ import annotations

from typing import Any

from core.services import Services
from storage.tables.user import User
from tests.exams.support import Client, headers
from tests.support_tickets.test_tickets_api import API, get, open_ticket, post


async def test_polling_gets_304_until_something_changes(
    client: Client, candidate: User, proctors: list[User]
) -> None:
    ticket = await open_ticket(client, candidate)
    for path in (f"{API}?messages=true", f"{API}/{ticket['id']}"):
        first = await client.get(path, headers=headers(candidate))
        etag = first.headers["ETag"]
        same = await client.get(path, headers={**headers(candidate), "If-None-Match": etag})
        assert same.status == 304
        assert await same.read() == b""
    await post(client, proctors[0], f"{API}/{ticket['id']}/messages", {"body": "On it."}, 201)
    changed = await client.get(path, headers={**headers(candidate), "If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag
    assert (await changed.json())["messages"][-1]["body"] == "On it."


async def test_staff_filters(
    client: Client,
    services: Services,
    sitting: dict[str, Any],
    candidates: list[User],
    proctors: list[User],
) -> None:
    proctor = proctors[0]
    in_exam = await open_ticket(client, candidates[0], attempt_id=sitting["attempt"]["id"])
    outside = await open_ticket(client, candidates[1], category="other")
    await post(client, proctor, f"{API}/{outside['id']}/messages", {"body": "Hello"}, 201)

    async def ids(query: str) -> list[int]:
        return [t["id"] for t in (await get(client, proctor, f"{API}?{query}"))["tickets"]]

    assert await ids("") == [outside["id"], in_exam["id"]]
    assert await ids(f"exam_id={sitting['exam']['id']}") == [in_exam["id"]]
    assert await ids("status=answered") == [outside["id"]]
    assert await ids("status=open") == [in_exam["id"]]
    assert await ids("unread=true") == [in_exam["id"]]
    assert await ids("unread=false") == [outside["id"]]
    assert await ids("older_than_minutes=60") == []
    assert await ids("older_than_minutes=0") == [outside["id"], in_exam["id"]]
    await client.put(
        f"{API}/{outside['id']}/status", json={"status": "closed"}, headers=headers(proctor)
    )
    assert await ids("status=active") == [in_exam["id"]]
    assert await ids("status=closed") == [outside["id"]]
    response = await client.get(f"{API}?status=lost", headers=headers(proctor))
    assert response.status == 422
