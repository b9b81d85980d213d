"""In-app notifications: stored in the inbox and pushed over the person's live WebSocket."""

from __future__ import annotations

import asyncio

from core import domain_events
from core.services import Services
from storage.tables.user import User
from tests.exams.support import Client, headers


async def test_notification_is_pushed_live_and_counted_until_read(
    client: Client, services: Services, candidate: User
) -> None:
    me = headers(candidate)
    async with client.ws_connect("/api/v1/notifications/live", headers=me) as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello == {"type": "hello", "unread": 0}
        await domain_events.emit(
            services,
            "ticket.replied",
            {
                "ticket_id": 7,
                "subject": "Camera",
                "recipient_ids": [candidate.id],
                "url": "/support/tickets/7",
            },
        )
        pushed = await asyncio.wait_for(ws.receive_json(), timeout=5)
    assert pushed["type"] == "notification"
    assert pushed["notification"]["title"] == "Reply to your support ticket: Camera"
    assert pushed["notification"]["link"].endswith("/support/tickets/7")
    inbox = await (await client.get("/api/v1/notifications", headers=me)).json()
    assert inbox["unread"] == 1
    assert inbox["items"][0]["id"] == pushed["notification"]["id"]
    item = inbox["items"][0]["id"]
    read = await client.post(f"/api/v1/notifications/{item}/read", headers=me)
    assert (await read.json())["unread"] == 0
    missing = await client.post("/api/v1/notifications/99999/read", headers=me)
    assert missing.status == 404


async def test_websocket_from_another_origin_is_refused(client: Client, candidate: User) -> None:
    response = await client.get(
        "/api/v1/notifications/live",
        headers={
            **headers(candidate),
            "Origin": "https://evil.example",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert response.status == 403
