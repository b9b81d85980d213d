"""Email over SMTP (STARTTLS or TLS, AUTH), or into the blob store mailbox when no server is set.

``smtplib`` runs in a worker thread: it is the standard, well-tested client and one message per
thread costs nothing next to the network round trips. Without ``[notify.smtp] host`` each
message is written as an ``.eml`` file under ``mailbox/`` in the blob store, so ``make run``
shows exactly what would have been sent (and the history says where).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from core.services import Services
from plugins.notify import catalog, clock, dispatch
from plugins.notify.config import SmtpConfig
from plugins.notify.errors import DeliveryError
from plugins.notify.tables import NotifyMessage

MAILBOX_PREFIX = "mailbox/"


def build(cfg: SmtpConfig, row: NotifyMessage, unsubscribe: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((cfg.from_name, cfg.from_address))
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=cfg.from_address.rpartition("@")[2] or "localhost")
    message["X-Invigilator-Event"] = row.event
    if unsubscribe and catalog.can_opt_out(row.category, "email"):
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    return message


def _tls_context(cfg: SmtpConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cfg.ca_file or None)
    if not cfg.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _send_blocking(cfg: SmtpConfig, message: EmailMessage) -> None:
    context = _tls_context(cfg)
    client: smtplib.SMTP
    if cfg.ssl:
        client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=context)
    else:
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
    with client:
        client.ehlo()
        if cfg.starttls and not cfg.ssl:
            client.starttls(context=context)
            client.ehlo()
        if cfg.username:
            client.login(cfg.username, os.environ.get(cfg.password_env, ""))
        client.send_message(message)


async def send_message(cfg: SmtpConfig, message: EmailMessage) -> None:
    """Send one message; SMTP 5xx answers are permanent failures, the rest temporary."""
    try:
        await asyncio.to_thread(_send_blocking, cfg, message)
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryError(f"SMTP authentication failed: {error.smtp_code}") from error
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryError(f"recipient refused: {error.recipients}", permanent=True) from error
    except smtplib.SMTPResponseException as error:
        text = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else str(error.smtp_error)
        )
        raise DeliveryError(
            f"SMTP {error.smtp_code} {text}", permanent=500 <= error.smtp_code < 600
        ) from error
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"SMTP {type(error).__name__}: {error}") from error


async def send(services: Services, row: NotifyMessage) -> str:
    """Channel ``email``: returns the Message-ID (or the mailbox blob key)."""
    cfg = dispatch.config(services).smtp
    message = build(cfg, row, dispatch.absolute(services, "/notifications"))
    if not cfg.host:
        stamp = clock.now().strftime("%Y%m%dT%H%M%S")
        key = f"{MAILBOX_PREFIX}{stamp}-{row.id}-{secrets.token_hex(4)}.eml"
        await services.blobs.put(key, message.as_bytes(), "message/rfc822")
        return f"blob:{key}"
    await send_message(cfg, message)
    return str(message["Message-ID"])
