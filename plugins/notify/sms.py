"""SMS through Twilio's Messages API (``POST /2010-04-01/Accounts/{sid}/Messages.json``).

A small aiohttp client instead of Twilio's SDK: one form-encoded POST with basic auth is all
it takes, and it keeps the dependency list short. Twilio answers errors as JSON with ``code``,
``message`` and ``more_info``; 429 and 5xx are retried (honouring ``Retry-After``), other 4xx
are permanent (a wrong number will not become right by trying again).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import aiohttp

from core.services import Services
from plugins.notify import dispatch
from plugins.notify.config import TwilioConfig
from plugins.notify.errors import DeliveryError

MAX_BODY = 1600  # Twilio's limit on one message's body


@dataclass(frozen=True)
class SentSms:
    sid: str
    status: str


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


async def send_sms(cfg: TwilioConfig, to: str, body: str) -> SentSms:
    """Send one SMS; raises :class:`DeliveryError` with Twilio's code and message."""
    token = os.environ.get(cfg.auth_token_env, "")
    url = f"{cfg.base_url.rstrip('/')}/2010-04-01/Accounts/{cfg.account_sid}/Messages.json"
    form = {"To": to, "From": cfg.from_number, "Body": body[:MAX_BODY]}
    timeout = aiohttp.ClientTimeout(total=cfg.timeout_seconds)
    auth = {"Authorization": aiohttp.encode_basic_auth(cfg.account_sid, token)}
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, data=form, headers=auth) as response,
        ):
            try:
                answer: Any = await response.json(content_type=None)
            except ValueError:
                answer = {}
            if not isinstance(answer, dict):
                answer = {}
            if response.status >= 400:
                code = answer.get("code", response.status)
                text = answer.get("message") or response.reason or "error"
                more = answer.get("more_info", "")
                retry = response.status == 429 or response.status >= 500
                raise DeliveryError(
                    f"Twilio {response.status} code {code}: {text}"
                    + (f" ({more})" if more else ""),
                    permanent=not retry,
                    retry_after=_retry_after(response.headers.get("Retry-After")),
                )
    except (aiohttp.ClientError, TimeoutError) as error:
        raise DeliveryError(f"Twilio unreachable: {type(error).__name__}: {error}") from error
    sid = answer.get("sid")
    if not isinstance(sid, str) or not sid:
        raise DeliveryError("Twilio answered without a message sid")
    return SentSms(sid=sid, status=str(answer.get("status", "")))


async def send(services: Services, row: Any) -> str:
    """Channel ``sms``: the subject line only (an SMS is a nudge, the link says the rest)."""
    cfg = dispatch.config(services).twilio
    if not cfg.account_sid:
        raise DeliveryError("SMS is not configured ([notify.twilio] account_sid)", permanent=True)
    text = row.subject + (f" {row.link}" if row.link else "")
    return (await send_sms(cfg, row.recipient, text)).sid
