"""One HTTP call to a judging service, retried the way both remote backends need.

Judge0 and Sphere Engine fail in the same ways: the network drops, a proxy answers 502, the
service is busy (429, 503 "queue is full") or in maintenance. Those are retried with capped
exponential backoff (honouring ``Retry-After``); when the retries run out the caller gets
:class:`~plugins.judge.backend.JudgeUnavailable`, so the answer is judged later instead of
being marked wrong. Refused credentials (401/403) are never retried: they will not heal.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from plugins.judge.backend import JudgeUnavailable

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class JudgeAuthError(JudgeUnavailable):
    """The service refused our credentials: an operator must fix the configuration."""


class JudgeSetupError(JudgeUnavailable):
    """The service rejected how this backend is configured (an unknown language id, a
    missing judge). Judging later, once an operator fixes it, is the right outcome, so this is
    a kind of :class:`JudgeUnavailable` and no answer is marked wrong because of it."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # parsed JSON, or the text when the body is not JSON
    text: str


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 4
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.max_backoff_seconds)
            except ValueError:
                pass
        return float(min(self.backoff_seconds * (2**attempt), self.max_backoff_seconds))


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    service: str,
    policy: RetryPolicy,
    params: dict[str, str] | None = None,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Send one request; retry transient failures; raise ``JudgeUnavailable`` when it cannot
    get an answer, ``JudgeAuthError`` on 401/403. Any other status is returned to the caller,
    which knows what a 404 or 422 means for its API."""
    last = ""
    for attempt in range(policy.retries + 1):
        retry_after: str | None = None
        try:
            async with session.request(
                method, url, params=params, json=json_body, data=form, headers=headers
            ) as response:
                text = await response.text(errors="replace")
                if response.status in (401, 403):
                    raise JudgeAuthError(
                        f"{service} refused the credentials ({response.status}"
                        f"{': ' + _short(text) if text.strip() else ''}): check the token in "
                        "the judge configuration"
                    )
                if response.status not in RETRY_STATUSES:
                    return Reply(response.status, _parse(text), text)
                retry_after = response.headers.get("Retry-After")
                last = f"HTTP {response.status} {_short(text)}".strip()
        except (aiohttp.ClientError, TimeoutError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if attempt < policy.retries:
            await asyncio.sleep(policy.delay(attempt, retry_after))
    raise JudgeUnavailable(
        f"{service} could not be reached after {policy.retries + 1} attempts ({last})"
    )


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def error_text(body: Any) -> str:
    """The human part of an error body: ``{"error": ...}`` (Judge0), ``{"message": ...}``
    (Sphere Engine), Judge0's per-field validation map, or the raw text."""
    if isinstance(body, dict):
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
        parts = [
            f"{k}: {'; '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in body.items()
        ]
        return ", ".join(parts)
    return _short(str(body))
