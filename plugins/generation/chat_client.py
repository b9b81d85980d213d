"""One chat-completions request, with the retries a busy or flaky server needs.

429 and 5xx answers and network errors are retried up to ``retries`` times, waiting what the
server's ``Retry-After`` asks (capped by ``max_retry_after``) or else an exponential backoff.
Other 4xx answers are final: the request itself is wrong (bad key, unknown model), and asking
again would only spend money.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from plugins.generation.backend import GenerationFailed
from plugins.generation.config import OpenAIConfig

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


class MalformedReply(Exception):
    """The server answered 200 but not with a chat completion (no choices, not JSON)."""


@dataclass(frozen=True)
class Reply:
    content: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


class ChatClient:
    def __init__(self, config: OpenAIConfig, api_key: str) -> None:
        self.config = config
        self.api_key = api_key
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            timeout = aiohttp.ClientTimeout(total=self.config.timeout)
            self._session = aiohttp.ClientSession(headers=headers, timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def complete(self, messages: list[dict[str, str]], fmt: dict[str, Any]) -> Reply:
        config = self.config
        body = {
            "model": config.model,
            "messages": messages,
            "response_format": fmt,
            "temperature": config.temperature,
            "max_tokens": config.max_tokens,
        }
        url = config.base_url.rstrip("/") + "/chat/completions"
        last = ""
        for attempt in range(1 + config.retries):
            wait = config.backoff_seconds * 2**attempt
            try:
                async with self._open().post(url, json=body) as response:
                    if response.status == 200:
                        return _reply(await response.read())
                    text = (await response.text())[:300]
                    last = f"HTTP {response.status}: {text}"
                    if response.status not in RETRY_STATUSES:
                        raise GenerationFailed(f"the model server refused the request ({last})")
                    wait = _retry_after(response.headers.get("Retry-After"), wait)
            except (aiohttp.ClientError, TimeoutError) as error:
                last = f"{type(error).__name__}: {error}"
            log.warning("generation: %s (try %d); retrying in %.1f s", last, attempt + 1, wait)
            if attempt < config.retries:
                await asyncio.sleep(min(wait, config.max_retry_after))
        raise GenerationFailed(f"the model server failed {1 + config.retries} times; last: {last}")


def _retry_after(header: str | None, default: float) -> float:
    if not header:
        return default
    try:
        return max(float(header), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return default
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _reply(raw: bytes) -> Reply:
    try:
        data = json.loads(raw)
        choice = data["choices"][0]
        content = choice["message"]["content"]
        usage = data.get("usage") or {}
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise MalformedReply(f"the server's reply is not a chat completion ({error})") from None
    if not isinstance(content, str):
        raise MalformedReply("the reply has no text content")
    return Reply(
        content=content,
        finish_reason=str(choice.get("finish_reason") or ""),
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
    )
