"""Email through a real SMTP server on loopback: STARTTLS with a certificate the test makes,
AUTH, and the message as the recipient gets it (headers, plain and HTML parts)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.services import Services
from storage.tables.user import User
from tests.exams.support import Client, headers
from tests.fakes.smtp_server import MailSink, start_smtp
from tests.notify.support import settled

SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret-smtp-pass"


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, MailSink, Path]]:
    monkeypatch.setenv("INVIGILATOR_SMTP_PASSWORD", SMTP_PASSWORD)
    controller, sink, cert = start_smtp(tmp_path, SMTP_USER, SMTP_PASSWORD)
    try:
        yield controller.port, sink, cert
    finally:
        controller.stop()


@pytest.fixture
def notify_config(smtp: tuple[int, MailSink, Path]) -> str:
    port, _sink, cert = smtp
    return (
        f'smtp.host = "127.0.0.1"\nsmtp.port = {port}\nsmtp.starttls = true\n'
        f'smtp.username = "{SMTP_USER}"\nsmtp.ca_file = "{cert}"\n'
        'smtp.from_address = "exams@school.example"\n'
        "retry.max_attempts = 2\n"
    )


async def test_account_created_mail_arrives_over_starttls_with_auth(
    client: Client, services: Services, admin: User, smtp: tuple[int, MailSink, Path]
) -> None:
    _port, sink, _cert = smtp
    response = await client.post(
        "/api/v1/users",
        json={
            "email": "ada@example.com",
            "display_name": "Ada <Lovelace>",
            "password": "a long enough passphrase 42",
        },
        headers=headers(admin),
    )
    assert response.status == 201, await response.text()
    [row] = await settled(services, channel="email", event="account.created")
    assert row.status == "sent", row.last_error
    assert row.attempts == 1
    [got] = sink.received
    assert got.rcpt_tos == ["ada@example.com"]
    assert got.mail_from == "exams@school.example"
    message = got.message
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Welcome to Invigilator"
    assert message["Message-ID"] == row.provider_id
    assert message["X-Invigilator-Event"] == "account.created"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    assert "Hello Ada <Lovelace>," in plain.get_content()
    assert "/login" in plain.get_content()
    assert "Ada &lt;Lovelace&gt;" in html.get_content()  # HTML is escaped
    assert "<Lovelace>" not in html.get_content()


async def test_outbox_mail_from_a_password_reset_is_relayed(
    client: Client, services: Services, admin: User, smtp: tuple[int, MailSink, Path]
) -> None:
    from plugins.notify import outbox_relay  # noqa: PLC0415

    _port, sink, _cert = smtp
    response = await client.post(
        "/api/v1/users",
        json={"email": "invitee@example.com", "display_name": "Invitee"},
        headers=headers(admin),
    )
    assert response.status == 201
    assert len(await services.blobs.list("outbox/")) == 1
    assert await outbox_relay.relay(services) == 1
    assert await services.blobs.list("outbox/") == []
    assert len(await services.blobs.list("outbox-sent/")) == 1
    [got] = sink.received
    assert got.rcpt_tos == ["invitee@example.com"]
    assert "Choose your password" in got.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    [row] = await settled(services, event="outbox")
    assert row.status == "sent"


async def test_a_refused_message_fails_permanently_and_the_request_is_not_hurt(
    client: Client, services: Services, admin: User, smtp: tuple[int, MailSink, Path]
) -> None:
    _port, sink, _cert = smtp
    sink.reject = "550 5.1.1 mailbox unavailable"
    response = await client.post(
        "/api/v1/users",
        json={
            "email": "gone@example.com",
            "display_name": "Gone",
            "password": "a long enough passphrase 42",
        },
        headers=headers(admin),
    )
    assert response.status == 201
    [row] = await settled(services, channel="email", event="account.created")
    assert row.status == "failed"
    assert row.attempts == 1  # 5xx is permanent: no retry
    assert "550" in row.last_error


async def test_password_reset_mail_and_its_confirmation_go_by_smtp(
    client: Client, services: Services, candidate: User, smtp: tuple[int, MailSink, Path]
) -> None:
    """The accounts plugin writes the reset link to the outbox; the relay sends it; using the
    link sends the "password changed" notice (transactional, always by email)."""
    import asyncio  # noqa: PLC0415
    import re  # noqa: PLC0415

    from plugins.notify import outbox_relay  # noqa: PLC0415

    _port, sink, _cert = smtp
    response = await client.post("/api/v1/auth/password/forgot", json={"email": candidate.email})
    assert response.status == 202
    for _ in range(100):  # the reset mail is written by a job
        if await services.blobs.list("outbox/"):
            break
        await asyncio.sleep(0.05)
    assert await outbox_relay.relay(services) == 1
    [reset_mail] = sink.received
    assert reset_mail.rcpt_tos == [candidate.email]
    plain = reset_mail.message.get_body(preferencelist=("plain",))
    assert plain is not None
    match = re.search(r"token=([A-Za-z0-9_\-%.~]+)", plain.get_content())
    assert match is not None
    response = await client.post(
        "/api/v1/auth/password/reset",
        json={"token": match.group(1), "new_password": "a brand new passphrase 77"},
    )
    assert response.status in (200, 204), await response.text()
    [row] = await settled(services, channel="email", event="account.password_reset")
    assert row.status == "sent", row.last_error
    notice = sink.received[-1]
    assert notice.rcpt_tos == [candidate.email]
    assert notice.message["Subject"] == "Your Invigilator password was changed"
    assert "List-Unsubscribe" not in notice.message  # transactional: no opting out
