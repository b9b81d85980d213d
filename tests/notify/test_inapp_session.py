"""The bell's socket closes with 4001 when its session is signed out elsewhere, and the
socket of another session of the same person stays open."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web

from core.channels import SESSION_REVOKED
from core.services import Services
from core.settings import Settings
from storage.tables.user import User
from tests.exams.support import Client, headers, principal_from
from webapp.app import create_app
from webapp.keys import AUTHENTICATE, Principal


async def session_authenticate(request: web.Request) -> Principal | None:
    header = request.headers.get("X-Test-User")
    if not header:
        return None
    principal = principal_from(header)
    return Principal(principal.user_id, principal.roles, request.headers.get("X-Test-Session"))


@pytest.fixture
def app(settings: Settings) -> web.Application:
    application = create_app(settings)
    application[AUTHENTICATE] = session_authenticate
    return application


async def test_signed_out_session_closes_its_socket_only(
    client: Client, services: Services, candidate: User
) -> None:
    one = {**headers(candidate), "X-Test-Session": "session-one"}
    two = {**headers(candidate), "X-Test-Session": "session-two"}
    async with (
        client.ws_connect("/api/v1/notifications/live", headers=one) as first,
        client.ws_connect("/api/v1/notifications/live", headers=two) as second,
    ):
        assert (await first.receive_json(timeout=5))["type"] == "hello"
        assert (await second.receive_json(timeout=5))["type"] == "hello"
        message = {"session_id": "session-one", "user_id": str(candidate.id), "reason": "logout"}
        await services.bus.publish(SESSION_REVOKED, json.dumps(message).encode())
        closing = await first.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE
        assert closing.data == 4001
        await services.bus.publish(
            "notify.inbox",
            json.dumps({"user_id": candidate.id, "notification": {"id": 1, "title": "t"}}).encode(),
        )
        still = await second.receive_json(timeout=5)
        assert still == {"type": "notification", "notification": {"id": 1, "title": "t"}}
