"""Preferences: opt-outs are respected, transactional mail cannot be switched off, and a
provider that fails never fails the request that triggered the message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.services import Services
from storage.tables.user import User
from tests.exams.support import Client, FakeClock, add_question, create_exam, fixed, headers
from tests.notify.support import messages, settled


@pytest.fixture
def notify_config() -> str:
    # Nothing listens on port 9 of loopback: every SMTP try fails at once.
    return 'smtp.host = "127.0.0.1"\nsmtp.port = 9\nsmtp.starttls = false\nretry.max_attempts = 3\n'


async def test_opt_out_is_respected_and_transactional_mail_is_locked(
    client: Client, services: Services, examiner: User, candidate: User, fake_clock: FakeClock
) -> None:
    me = headers(candidate)
    refused = await client.put(
        "/api/v1/notifications/preferences",
        json={"channels": {"security": {"email": False}}},
        headers=me,
    )
    assert refused.status == 422
    assert (await refused.json())["error"]["details"] == {
        "category": "security",
        "channel": "email",
    }
    unknown = await client.put(
        "/api/v1/notifications/preferences",
        json={"channels": {"nope": {"email": False}}},
        headers=me,
    )
    assert unknown.status == 422
    bad_phone = await client.put(
        "/api/v1/notifications/preferences", json={"phone": "0800 123"}, headers=me
    )
    assert bad_phone.status == 422
    saved = await client.put(
        "/api/v1/notifications/preferences",
        json={"channels": {"exams": {"email": False}}, "language": "fr"},
        headers=me,
    )
    assert saved.status == 200
    body = await saved.json()
    exams = next(c for c in body["categories"] if c["category"] == "exams")
    assert exams["channels"] == {"email": False, "sms": True, "inapp": True}
    security = next(c for c in body["categories"] if c["category"] == "security")
    assert security["locked"] == ["email"]

    question = await add_question(services, "single_choice")
    await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        opens_at=fake_clock.now() + timedelta(days=3),
    )
    rows = await settled(services, expect=2, event="exam.scheduled")
    by_channel = {r.channel: r for r in rows}
    assert by_channel["email"].status == "skipped"
    assert by_channel["email"].last_error == "opted out"
    assert by_channel["inapp"].status == "sent"
    assert by_channel["inapp"].language == "en"  # no French template: falls back


async def test_a_dead_mail_server_fails_the_message_not_the_request(
    client: Client, services: Services, admin: User
) -> None:
    response = await client.post(
        "/api/v1/users",
        json={
            "email": "z@example.com",
            "display_name": "Z",
            "password": "a long enough passphrase 42",
        },
        headers=headers(admin),
    )
    assert response.status == 201
    [row] = await settled(services, channel="email", event="account.created")
    assert row.status == "failed"
    assert row.attempts == 3  # retried up to max_attempts (backoff 0 in tests)
    assert "SMTP" in row.last_error
    history = await client.get(
        "/api/v1/admin/notifications?status=failed&channel=email", headers=headers(admin)
    )
    page = await history.json()
    assert page["total"] == 1
    assert page["items"][0]["last_error"] == row.last_error
    retried = await client.post(
        f"/api/v1/admin/notifications/{row.id}/retry", headers=headers(admin)
    )
    assert retried.status == 200
    assert (await retried.json())["status"] == "queued"
    again = await client.post(f"/api/v1/admin/notifications/{row.id}/retry", headers=headers(admin))
    assert again.status in (200, 409)


async def test_a_hanging_mail_server_does_not_hold_the_request(
    client: Client, services: Services, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server accepts the connection and never greets: the request still answers while the
    message is being tried, and the history shows it in flight."""
    import socket  # noqa: PLC0415

    from plugins.notify import dispatch  # noqa: PLC0415

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    smtp = dispatch.config(services).smtp
    monkeypatch.setattr(smtp, "port", listener.getsockname()[1])
    monkeypatch.setattr(smtp, "timeout_seconds", 60.0)
    try:
        response = await client.post(
            "/api/v1/users",
            json={
                "email": "h@example.com",
                "display_name": "H",
                "password": "a long enough passphrase 42",
            },
            headers=headers(admin),
        )
        assert response.status == 201
        [row] = await messages(services, channel="email", event="account.created")
        # Still waiting for the greeting: no try has ended, so the request did not wait on one.
        assert row.status == "queued"
        assert row.last_error == ""
    finally:
        listener.close()
