"""A real HTTP server speaking OpenAI's chat-completions protocol, scripted by the test.

It checks requests the way the real service does (JSON body, ``model``, ``messages`` with roles,
a well-formed ``response_format``, a Bearer key when one is required) and answers 400/401 with
OpenAI's error envelope when they are wrong. Answers come from a script: each queued
:class:`Scripted` is either a completion whose message content is the given text (valid JSON,
malformed JSON, a truncated answer…) or an HTTP error with headers such as ``Retry-After``.
Usage is counted in whitespace-separated words, which is what the tests need: numbers that
depend on what was sent and said.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Scripted:
    content: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"
    raw: bytes | None = None  # a body sent as-is (not a chat completion at all)


@dataclass
class ChatServer:
    base_url: str = ""
    api_key: str = ""
    script: list[Scripted] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def answer(self, content: str | dict[str, Any], **kwargs: Any) -> None:
        text = content if isinstance(content, str) else json.dumps(content)
        self.script.append(Scripted(content=text, **kwargs))

    def fail(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.script.append(Scripted(status=status, headers=headers or {}))


def _error(status: int, message: str, kind: str) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.json_response(body, status=status)


def _check(body: Any) -> str | None:
    """What OpenAI would refuse in this body, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    for message in messages:
        if message.get("role") not in ("system", "user", "assistant") or not isinstance(
            message.get("content"), str
        ):
            return "each message needs a role and string content"
    fmt = body.get("response_format")
    if fmt is not None:
        if fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema") or {}
            if not isinstance(spec.get("name"), str) or not isinstance(spec.get("schema"), dict):
                return "response_format.json_schema needs a name and a schema"
        elif fmt.get("type") == "json_object":
            if "json" not in json.dumps(messages).lower():
                return "'messages' must contain the word 'json' to use json_object"
        elif fmt.get("type") != "text":
            return f"invalid response_format type {fmt.get('type')!r}"
    return None


def _words(messages: list[dict[str, str]]) -> int:
    return sum(len(m["content"].split()) for m in messages)


def make_app(server: ChatServer) -> web.Application:
    async def completions(request: web.Request) -> web.StreamResponse:
        if server.api_key and request.headers.get("Authorization") != f"Bearer {server.api_key}":
            return _error(401, "Incorrect API key provided", "invalid_request_error")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body is not valid JSON", "invalid_request_error")
        problem = _check(body)
        if problem:
            return _error(400, problem, "invalid_request_error")
        server.requests.append(body)
        server.headers.append(dict(request.headers))
        if not server.script:
            return _error(500, "the test scripted no more answers", "server_error")
        step = server.script.pop(0)
        if step.status != 200:
            response = _error(step.status, f"scripted {step.status}", "server_error")
            response.headers.update(step.headers)
            return response
        if step.raw is not None:
            return web.Response(body=step.raw, content_type="application/json")
        prompt, completion = _words(body["messages"]), len(step.content.split())
        return web.json_response(
            {
                "id": f"chatcmpl-{len(server.requests)}",
                "object": "chat.completion",
                "created": 1_800_000_000,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": step.content},
                        "finish_reason": step.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    return app


@asynccontextmanager
async def chat_server(api_key: str = "") -> AsyncIterator[ChatServer]:
    """Run the server on a free loopback port; ``base_url`` ends in ``/v1``."""
    server = ChatServer(api_key=api_key)
    runner = web.AppRunner(make_app(server))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield server
    finally:
        await runner.cleanup()
