"""SMS against a local server speaking Twilio's API, and signed webhooks checked by a
receiving aiohttp server."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from core.services import Services
from plugins.notify.config import TwilioConfig
from plugins.notify.errors import DeliveryError
from plugins.notify.sms import send_sms
from storage.tables.user import User
from tests.exams.support import Client, headers
from tests.fakes.twilio_server import FakeTwilio
from tests.notify.support import settled

SID, TOKEN = "AC" + "0" * 32, "twilio-token"


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio(SID, TOKEN)
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def twilio_config(base_url: str) -> TwilioConfig:
    return TwilioConfig(account_sid=SID, from_number="+15005550006", base_url=base_url)


async def test_twilio_client_sends_and_reads_errors(
    twilio: tuple[FakeTwilio, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, url = twilio
    monkeypatch.setenv("INVIGILATOR_TWILIO_TOKEN", TOKEN)
    sent = await send_sms(twilio_config(url), "+447700900123", "Your exam opens in 1 hour")
    assert sent.sid.startswith("SM")
    assert sent.status == "queued"
    assert fake.messages[0]["to"] == "+447700900123"
    assert fake.messages[0]["from"] == "+15005550006"
    assert fake.messages[0]["body"] == "Your exam opens in 1 hour"

    with pytest.raises(DeliveryError) as bad_number:
        await send_sms(twilio_config(url), "12345", "x")
    assert bad_number.value.permanent
    assert "21211" in str(bad_number.value)

    fake.throttle = 1
    with pytest.raises(DeliveryError) as throttled:
        await send_sms(twilio_config(url), "+447700900123", "x")
    assert not throttled.value.permanent
    assert throttled.value.retry_after == 1.0

    monkeypatch.setenv("INVIGILATOR_TWILIO_TOKEN", "wrong")
    with pytest.raises(DeliveryError) as denied:
        await send_sms(twilio_config(url), "+447700900123", "x")
    assert denied.value.permanent
    assert "20003" in str(denied.value)


class Receiver:
    def __init__(self, secret: str, fail: int = 0) -> None:
        self.secret, self.fail = secret, fail
        self.got: list[tuple[dict[str, str], dict[str, Any]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp = request.headers["X-Invigilator-Timestamp"]
        expected = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        if not hmac.compare_digest(
            request.headers["X-Invigilator-Signature"], "sha256=" + expected.hexdigest()
        ):
            return web.Response(status=401)
        if self.fail > 0:
            self.fail -= 1
            return web.Response(status=503)
        self.got.append((dict(request.headers), json.loads(body)))
        return web.Response(status=204)


@pytest.fixture
def notify_config() -> str:
    return (
        "webhooks.allow_private = true\n"
        "webhooks.disable_after_failures = 3\n"
        "retry.max_attempts = 3\n"
    )


async def start_receiver(receiver: Receiver) -> TestServer:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_webhook_is_signed_and_retried(
    client: Client, services: Services, admin: User
) -> None:
    secret = "a-webhook-secret-0123456789"
    receiver = Receiver(secret, fail=1)
    server = await start_receiver(receiver)
    try:
        url = str(server.make_url("/hook"))
        response = await client.post(
            "/api/v1/admin/webhooks",
            json={"url": url, "secret": secret, "events": ["account.created"]},
            headers=headers(admin),
        )
        assert response.status == 201, await response.text()
        response = await client.post(
            "/api/v1/users",
            json={
                "email": "w@example.com",
                "display_name": "W",
                "password": "a long enough passphrase 42",
            },
            headers=headers(admin),
        )
        assert response.status == 201
        [row] = await settled(services, channel="webhook")
        assert row.status == "sent", row.last_error
        assert row.attempts == 2  # the first try got a 503
        [(sent_headers, payload)] = receiver.got
        assert sent_headers["X-Invigilator-Event"] == "account.created"
        assert sent_headers["X-Invigilator-Delivery"] == str(row.id)
        assert payload["event"] == "account.created"
        assert payload["data"]["user_id"] == (await response.json())["id"]
        hooks = await (await client.get("/api/v1/admin/webhooks", headers=headers(admin))).json()
        assert hooks[0]["consecutive_failures"] == 0
        assert "secret" not in hooks[0]
    finally:
        await server.close()


async def test_webhook_endpoint_is_disabled_after_repeated_failures(
    client: Client, services: Services, admin: User
) -> None:
    secret = "a-webhook-secret-0123456789"
    receiver = Receiver(secret, fail=100)
    server = await start_receiver(receiver)
    try:
        await client.post(
            "/api/v1/admin/webhooks",
            json={"url": str(server.make_url("/hook")), "secret": secret},
            headers=headers(admin),
        )
        await client.post(
            "/api/v1/users",
            json={
                "email": "x@example.com",
                "display_name": "X",
                "password": "a long enough passphrase 42",
            },
            headers=headers(admin),
        )
        [row] = await settled(services, channel="webhook")
        assert row.status == "failed"
        assert row.attempts == 3
        assert "503" in row.last_error
        hooks = await (await client.get("/api/v1/admin/webhooks", headers=headers(admin))).json()
        assert hooks[0]["active"] is False
        assert "3 failed deliveries" in hooks[0]["disabled_reason"]
    finally:
        await server.close()
