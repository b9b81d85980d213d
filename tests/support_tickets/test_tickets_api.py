"""The support API end to end on the real app: a ticket raised from an exam, the thread between
candidate and staff, status changes, read markers and the events other plugins hear."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.services import Services
from plugins.support import tickets
from plugins.support.tables import SupportTicket, TicketMessage
from storage.tables.user import User
from tests.exams.support import Client, add_users, headers
from tests.support_tickets.listener_plugin import events_of

API = "/api/v1/support/tickets"


async def open_ticket(client: Client, user: User, expect: int = 201, **body: Any) -> dict[str, Any]:
    payload = {"category": "technical", "message": "My camera froze.", **body}
    response = await client.post(API, json=payload, headers=headers(user))
    assert response.status == expect, await response.text()
    found: dict[str, Any] = await response.json()
    return found


async def post(client: Client, user: User, path: str, body: Any, expect: int) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers(user))
    assert response.status == expect, await response.text()
    found: dict[str, Any] = await response.json()
    return found


async def get(client: Client, user: User, path: str, expect: int = 200) -> dict[str, Any]:
    response = await client.get(path, headers=headers(user))
    assert response.status == expect, await response.text()
    found: dict[str, Any] = await response.json()
    return found


def user_ids(*users: User) -> list[int]:
    return sorted(user.id for user in users if user.id is not None)


async def counts(services: Services) -> tuple[int, int]:
    async with services.db.session() as db:
        tickets = (await db.execute(select(func.count()).select_from(SupportTicket))).scalar()
        messages = (await db.execute(select(func.count()).select_from(TicketMessage))).scalar()
    return int(tickets or 0), int(messages or 0)


async def test_round_trip_with_statuses_read_markers_and_events(
    client: Client,
    services: Services,
    sitting: dict[str, Any],
    candidates: list[User],
    proctors: list[User],
    admin: User,
    examiner: User,
) -> None:
    candidate, proctor = candidates[0], proctors[0]
    (retired,) = await add_users(services, "proctor", 1, prefix="retired")
    async with services.db.session() as db:
        row = await db.get(User, retired.id)
        assert row is not None
        row.is_active = False
        await db.commit()
    attempt = sitting["attempt"]

    ticket = await open_ticket(
        client,
        candidate,
        category="content",
        message="Is g 9.81 here?\nThanks",
        attempt_id=attempt["id"],
        item=1,
    )
    assert ticket["exam_id"] == sitting["exam"]["id"]
    assert ticket["exam_title"] == "Physics"
    assert (ticket["attempt_id"], ticket["item"], ticket["status"]) == (attempt["id"], 1, "open")
    assert ticket["subject"] == "Is g 9.81 here?"
    assert [m["author_role"] for m in ticket["messages"]] == ["candidate"]
    assert ticket["unread"] is False

    name, data = events_of(services)[-1]
    assert name == "ticket.created"
    assert data["recipient_ids"] == user_ids(*proctors, admin)  # no examiner,
    assert data["author_id"] == candidate.id  # no candidate, no inactive proctor
    assert (data["ticket_id"], data["attempt_id"], data["exam_id"]) == (
        ticket["id"],
        attempt["id"],
        sitting["exam"]["id"],
    )
    assert data["excerpt"] == "Is g 9.81 here? Thanks"
    assert data["subject"] == "Is g 9.81 here?"

    staff_view = await get(client, proctor, API)
    assert [t["id"] for t in staff_view["tickets"]] == [ticket["id"]]
    assert staff_view["tickets"][0]["unread"] is True
    assert staff_view["unread"] == 1
    assert staff_view["tickets"][0]["candidate_name"] == candidate.display_name

    replied = await post(client, proctor, f"{API}/{ticket['id']}/messages", {"body": "Yes."}, 201)
    assert replied["status"] == "answered"
    assert [(m["author_role"], m["body"]) for m in replied["messages"]] == [
        ("candidate", "Is g 9.81 here?\nThanks"),
        ("proctor", "Yes."),
    ]
    name, data = events_of(services)[-1]
    assert (name, data["recipient_ids"], data["author_id"]) == (
        "ticket.replied",
        [candidate.id],
        proctor.id,
    )
    assert data["status"] == "answered"
    assert (await get(client, proctor, API))["unread"] == 0  # replying read it

    mine = await get(client, candidate, f"{API}?attempt_id={attempt['id']}&messages=true")
    assert mine["unread"] == 1
    assert mine["tickets"][0]["messages"][-1]["body"] == "Yes."
    response = await client.post(f"{API}/{ticket['id']}/read", headers=headers(candidate))
    assert response.status == 204
    assert (await get(client, candidate, API))["unread"] == 0

    again = await post(
        client, candidate, f"{API}/{ticket['id']}/messages", {"body": "  And air drag?  "}, 201
    )
    assert again["status"] == "open"
    assert again["messages"][-1]["body"] == "And air drag?"
    name, data = events_of(services)[-1]
    assert (name, data["recipient_ids"]) == ("ticket.replied", [proctor.id])  # who answered

    closed = await client.put(
        f"{API}/{ticket['id']}/status", json={"status": "closed"}, headers=headers(admin)
    )
    assert closed.status == 200
    assert (await closed.json())["status"] == "closed"
    assert len(events_of(services)) == 3  # closing tells nobody
    refused = await client.post(
        f"{API}/{ticket['id']}/messages", json={"body": "late"}, headers=headers(proctor)
    )
    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "conflict"
    reopened = await post(
        client, candidate, f"{API}/{ticket['id']}/messages", {"body": "Still stuck."}, 201
    )
    assert reopened["status"] == "open"
    assert reopened["message_count"] == 4
    assert await counts(services) == (1, 4)


async def test_a_candidate_sees_only_their_own_tickets(
    client: Client,
    services: Services,
    sitting: dict[str, Any],
    candidates: list[User],
    proctors: list[User],
    examiner: User,
) -> None:
    owner, other = candidates[0], candidates[1]
    ticket = await open_ticket(client, owner, attempt_id=sitting["attempt"]["id"])
    path = f"{API}/{ticket['id']}"
    for method, suffix, body in (
        ("GET", "", None),
        ("POST", "/messages", {"body": "hijack"}),
        ("PUT", "/status", {"status": "closed"}),
        ("POST", "/read", None),
    ):
        response = await client.request(method, path + suffix, json=body, headers=headers(other))
        assert response.status == 404, (method, suffix)
        assert (await response.json())["error"]["code"] == "not_found"
    assert (await get(client, other, API))["tickets"] == []
    nudge = await post(client, owner, f"{path}/messages", {"body": "Anyone?"}, 201)
    assert nudge["status"] == "open"
    name, data = events_of(services)[-1]  # nobody on staff answered yet: the whole desk hears
    assert (name, data["recipient_ids"]) == ("ticket.replied", user_ids(*proctors))
    assert (await get(client, owner, path))["status"] == "open"
    # every staff role sees it
    for staff in (proctors[0], examiner):
        assert (await get(client, staff, path))["id"] == ticket["id"]
    # a ticket on someone else's attempt is refused as if the attempt did not exist
    await open_ticket(client, other, 404, attempt_id=sitting["attempt"]["id"])
    for raw in ("abc", "999999", "1" * 30):
        assert (await client.get(f"{API}/{raw}", headers=headers(owner))).status == 404
    # staff do not raise tickets; anonymous callers are not let in
    response = await client.post(
        API, json={"category": "other", "message": "hi"}, headers=headers(proctors[0])
    )
    assert response.status == 403
    assert (await client.get(API)).status == 401
    assert await counts(services) == (1, 2)


async def test_bad_inputs_get_clear_codes_and_store_nothing(
    client: Client, services: Services, sitting: dict[str, Any], candidate: User
) -> None:
    attempt_id = sitting["attempt"]["id"]
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"category": "technical", "message": ""}, 422, "validation_error"),
        ({"category": "technical", "message": "   \n "}, 422, "validation_error"),
        ({"category": "technical", "message": "x" * 5001}, 422, "validation_error"),
        ({"category": "weather", "message": "hi"}, 422, "validation_error"),
        ({"category": "other", "message": "hi", "subject": "s" * 121}, 422, "validation_error"),
        ({"category": "other", "message": "hi", "item": 0}, 422, "invalid_input"),
        (
            {"category": "other", "message": "hi", "attempt_id": attempt_id, "item": 2},
            422,
            "invalid_input",
        ),
        (
            {"category": "other", "message": "hi", "attempt_id": attempt_id, "item": -1},
            422,
            "validation_error",
        ),
        ({"category": "other", "message": "hi", "attempt_id": "nope"}, 404, "not_found"),
    ]
    for body, status, code in cases:
        response = await client.post(API, json=body, headers=headers(candidate))
        assert response.status == status, (body, await response.text())
        assert (await response.json())["error"]["code"] == code, body
    response = await client.post(
        API, data=b"{", headers={**headers(candidate), "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert await counts(services) == (0, 0)

    longest = await open_ticket(client, candidate, message="y" * 5000)
    path = f"{API}/{longest['id']}"
    for body in ({"body": ""}, {"body": " "}, {"body": "z" * 5001}, {}):
        response = await client.post(path + "/messages", json=body, headers=headers(candidate))
        assert response.status == 422, body
    response = await client.put(
        path + "/status", json={"status": "answered"}, headers=headers(candidate)
    )
    assert response.status == 422
    assert await counts(services) == (1, 1)
    assert events_of(services)[-1][1]["excerpt"].endswith("…")


async def test_ticket_creation_is_rate_limited_per_person(
    client: Client, services: Services, candidates: list[User], monkeypatch: Any
) -> None:
    now = [1_900_000_400.0]  # 200 s into a 10-minute window (600 s windows from 0)
    monkeypatch.setattr(tickets, "clock", lambda: now[0])
    first, second = candidates[0], candidates[1]
    for n in range(5):
        await open_ticket(client, first, message=f"problem {n}")
    response = await client.post(
        API, json={"category": "other", "message": "sixth"}, headers=headers(first)
    )
    assert response.status == 429
    assert response.headers["Retry-After"] == "400"
    assert (await response.json())["error"]["code"] == "too_many_tickets"
    await open_ticket(client, second)  # someone else is not held up
    now[0] += 400
    await open_ticket(client, first, message="next window")
    assert (await counts(services))[0] == 7
