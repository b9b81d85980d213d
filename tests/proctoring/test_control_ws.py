"""The candidate's control WebSocket forwards the proctor actions of its own attempt (published
on ``attempt.control`` by whichever process took them), and nothing else."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from core.channels import ATTEMPT_CONTROL, SESSION_REVOKED
from core.services import Services
from plugins.proctoring import control_ws
from plugins.proctoring.control_ws import control_message
from storage.tables.user import User
from tests.exams.support import Client, headers
from tests.proctoring.conftest import finish


def live(attempt_id: str) -> str:
    return f"/api/v1/attempts/{attempt_id}/live"


async def publish(services: Services, **message: Any) -> None:
    await services.bus.publish(ATTEMPT_CONTROL, json.dumps(message).encode())


async def receive(ws: aiohttp.ClientWebSocketResponse) -> Any:
    message = await asyncio.wait_for(ws.receive(), timeout=5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def test_forwards_the_actions_of_its_attempt(
    client: Client, services: Services, candidate: User, attempt_id: str
) -> None:
    async with client.ws_connect(live(attempt_id), headers=headers(candidate)) as ws:
        assert await receive(ws) == {"type": "hello", "attempt_id": attempt_id}
        await publish(services, attempt_id="0" * 32, action="warn", text="someone else", at=1.0)
        await services.bus.publish(ATTEMPT_CONTROL, b"not json")
        await publish(services, attempt_id=attempt_id, action="explode", text="", at=1.0)
        await publish(
            services,
            attempt_id=attempt_id,
            action="warn",
            text="Eyes on your screen.",
            at=5.5,
            by=3,
        )
        await publish(services, attempt_id=attempt_id, action="pause", text="", at=6.0, by=3)
        assert await receive(ws) == {
            "type": "control",
            "action": "warn",
            "text": "Eyes on your screen.",
            "at": 5.5,
        }
        assert await receive(ws) == {"type": "control", "action": "pause", "text": "", "at": 6.0}
        await ws.close()
    assert ws.close_code == 1000
    # The last socket gone, the process stops listening.
    for _ in range(50):
        if not control_ws._hubs:
            break
        await asyncio.sleep(0.02)
    assert control_ws._hubs == {}


async def test_two_tabs_both_hear_it(
    client: Client, services: Services, candidate: User, attempt_id: str
) -> None:
    async with (
        client.ws_connect(live(attempt_id), headers=headers(candidate)) as first,
        client.ws_connect(live(attempt_id), headers=headers(candidate)) as second,
    ):
        assert (await receive(first))["type"] == "hello"
        assert (await receive(second))["type"] == "hello"
        await publish(services, attempt_id=attempt_id, action="message", text="Hi", at=2.0)
        assert (await receive(first))["text"] == "Hi"
        assert (await receive(second))["text"] == "Hi"


async def handshake_status(client: Client, url: str, **kwargs: Any) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        async with client.ws_connect(url, **kwargs):
            pass
    return caught.value.status


async def test_only_the_attempts_candidate_while_it_is_in_progress(
    client: Client,
    services: Services,
    candidates: list[User],
    examiner: User,
    attempt_id: str,
) -> None:
    owner, stranger = candidates[0], candidates[1]
    assert await handshake_status(client, live(attempt_id), headers=headers(stranger)) == 404
    assert await handshake_status(client, live("f" * 32), headers=headers(owner)) == 404
    assert await handshake_status(client, live("x" * 200), headers=headers(owner)) == 404
    assert await handshake_status(client, live(attempt_id), headers=headers(examiner)) == 403
    assert await handshake_status(client, live(attempt_id)) == 401
    evil = headers(owner) | {"Origin": "http://evil.example"}
    assert await handshake_status(client, live(attempt_id), headers=evil) == 403
    await finish(services, attempt_id)
    assert await handshake_status(client, live(attempt_id), headers=headers(owner)) == 404


async def test_a_same_origin_page_may_connect(
    client: Client, candidate: User, attempt_id: str
) -> None:
    origin = f"http://{client.host}:{client.port}"
    async with client.ws_connect(
        live(attempt_id), headers=headers(candidate) | {"Origin": origin}
    ) as ws:
        assert (await receive(ws))["type"] == "hello"


async def test_a_revoked_session_is_closed(
    client: Client, services: Services, candidate: User, attempt_id: str
) -> None:
    mine = headers(candidate) | {"X-Test-Session": "s1"}
    other = headers(candidate) | {"X-Test-Session": "s2"}
    async with (
        client.ws_connect(live(attempt_id), headers=mine) as ws,
        client.ws_connect(live(attempt_id), headers=other) as kept,
    ):
        assert (await receive(ws))["type"] == "hello"
        assert (await receive(kept))["type"] == "hello"
        await services.bus.publish(SESSION_REVOKED, json.dumps({"session_id": "s1"}).encode())
        closing = await asyncio.wait_for(ws.receive(), timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE
        assert ws.close_code == control_ws.CLOSE_SESSION_ENDED
        await publish(services, attempt_id=attempt_id, action="message", text="still here", at=1.0)
        assert (await receive(kept))["text"] == "still here"


def test_control_message_checks_what_it_forwards() -> None:
    ok = json.dumps({"attempt_id": "a", "action": "terminate", "text": "x" * 5000, "at": 1})
    parsed = control_message(ok.encode())
    assert parsed is not None
    assert parsed[0] == "a"
    assert parsed[1]["action"] == "terminate"
    assert len(parsed[1]["text"]) == control_ws.MAX_TEXT
    for bad in (
        b"[]",
        b"{}",
        b'{"attempt_id": 3, "action": "warn"}',
        b'{"attempt_id": "a", "action": "dance"}',
        b'{"attempt_id": "a", "action": "warn", "text": 5}',
        b'{"attempt_id": "a", "action": "warn", "at": "soon"}',
        b"\xff",
    ):
        assert control_message(bad) is None, bad
