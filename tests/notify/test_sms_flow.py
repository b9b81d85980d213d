"""A reminder by SMS end to end: the person's number, Twilio's API (a local server), a 429 that
is retried after ``Retry-After``, and the message sid kept in the history."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from core.services import Services
from plugins.notify import dispatch
from plugins.notify.tables import NotifyPreference
from storage.tables.user import User
from tests.fakes.twilio_server import FakeTwilio
from tests.notify.support import settled

SID, TOKEN = "AC" + "1" * 32, "sms-flow-token"


@pytest.fixture
async def twilio(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[FakeTwilio, str]]:
    monkeypatch.setenv("INVIGILATOR_TWILIO_TOKEN", TOKEN)
    fake = FakeTwilio(SID, TOKEN, throttle=1)
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
def notify_config(twilio: tuple[FakeTwilio, str]) -> str:
    return (
        f'twilio.account_sid = "{SID}"\ntwilio.from_number = "+15005550006"\n'
        f'twilio.base_url = "{twilio[1]}"\n'
    )


async def test_reminder_goes_out_by_sms_after_a_429(
    services: Services, candidate: User, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _url = twilio
    assert candidate.id is not None
    async with services.db.session() as db:
        db.add(NotifyPreference(user_id=candidate.id, phone="+447700900123"))
        await db.commit()
    await dispatch.queue_for_users(
        services,
        "exam.reminder",
        {"exam_id": 1, "user_id": candidate.id},
        [candidate],
        {"exam": {"title": "Physics", "opens_at": "2030-01-08 09:00"}, "when": "1 hour"},
    )
    [row] = await settled(services, channel="sms")
    assert row.status == "sent", row.last_error
    assert row.attempts == 2  # the first answer was 429
    assert row.recipient == "+447700900123"
    [sent] = fake.messages
    assert row.provider_id == sent["sid"]
    assert sent["to"] == "+447700900123"
    assert sent["body"].startswith("Reminder: Physics opens in 1 hour")
