"""The candidate's control WebSocket: a proctor's message, warning, pause or end reaches the
exam page at once.

Proctor actions are published on ``attempt.control`` by whichever process took them; the
candidate's socket may be held by any process. Each process therefore keeps one hub per app:
a single bus subscription (not one per socket: with Redis every subscription holds a connection)
that fans each message out to the sockets of that attempt. The hub starts with the first socket
and stops with the last. It also follows ``session.revoked``, so a signed-out page stops
receiving at once.

Like the session socket (plugins/accounts/live.py), the handler alone reads and closes its
socket; the hub only puts messages on the socket's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from core.channels import ATTEMPT_CONTROL, SESSION_REVOKED
from core.services import Services
from plugins.exams import store
from webapp.errors import ApiError
from webapp.origin import same_origin
from webapp.routing import ApiRequest, ErrorSpec, Router

log = logging.getLogger(__name__)

router = Router(tags=["proctoring"])

ACTIONS = frozenset({"message", "warn", "pause", "resume", "terminate"})
MAX_TEXT = 2000
QUEUE_SIZE = 32  # messages waiting for one slow socket; the oldest go first
HEARTBEAT_S = 30.0
READY_TIMEOUT_S = 5.0
SEND_TIMEOUT_S = 2.0
CLOSE_SESSION_ENDED = 4001
_GONE = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


class _End:
    """Queued instead of a message: close the socket with this code and reason."""

    def __init__(self, code: int, reason: bytes) -> None:
        self.code = code
        self.reason = reason


SESSION_ENDED = _End(CLOSE_SESSION_ENDED, b"session ended")
SHUTDOWN = _End(1001, b"server shutting down")


@dataclass(eq=False)
class _Socket:
    attempt_id: str
    session_id: str | None
    queue: asyncio.Queue[dict[str, Any] | _End] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )

    def offer(self, item: dict[str, Any] | _End) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(item)


class _Hub:
    """One app's subscriptions and the sockets they feed, in this process."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.sockets: dict[str, set[_Socket]] = {}
        self.control_ready = asyncio.Event()
        self.revoked_ready = asyncio.Event()
        loop = asyncio.get_running_loop()
        self.tasks = [
            loop.create_task(self._follow(ATTEMPT_CONTROL, self._on_control, self.control_ready)),
            loop.create_task(self._follow(SESSION_REVOKED, self._on_revoked, self.revoked_ready)),
        ]

    async def ready(self) -> bool:
        waiting = asyncio.gather(self.control_ready.wait(), self.revoked_ready.wait())
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await waiting
        except TimeoutError:
            return False
        return True

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()

    def _all(self) -> list[_Socket]:
        return [socket for group in self.sockets.values() for socket in group]

    async def _follow(
        self, channel: str, handle: Callable[[bytes], None], ready: asyncio.Event
    ) -> None:
        while True:
            try:
                async with self.services.bus.subscribe(channel) as messages:
                    ready.set()
                    async for raw in messages:
                        handle(raw)
                break  # the bus closed: the process is stopping
            except asyncio.CancelledError:
                raise
            except Exception:
                ready.clear()
                log.exception("proctoring: %s listener failed; resubscribing", channel)
                await asyncio.sleep(1)
        for socket in self._all():
            socket.offer(SHUTDOWN)

    def _on_control(self, raw: bytes) -> None:
        parsed = control_message(raw)
        if parsed is None:
            log.warning("ignored a malformed attempt.control message")
            return
        attempt_id, message = parsed
        for socket in self.sockets.get(attempt_id, ()):
            socket.offer(message)

    def _on_revoked(self, raw: bytes) -> None:
        try:
            session_id = str(json.loads(raw)["session_id"])
        except (ValueError, KeyError, TypeError):
            return
        for socket in self._all():
            if socket.session_id == session_id:
                socket.offer(SESSION_ENDED)


_hubs: dict[int, _Hub] = {}


def _join(services: Services, socket: _Socket) -> _Hub:
    hub = _hubs.get(id(services))
    if hub is None:
        hub = _hubs[id(services)] = _Hub(services)
    hub.sockets.setdefault(socket.attempt_id, set()).add(socket)
    return hub


def _leave(services: Services, hub: _Hub, socket: _Socket) -> None:
    group = hub.sockets.get(socket.attempt_id)
    if group is not None:
        group.discard(socket)
        if not group:
            del hub.sockets[socket.attempt_id]
    if not hub.sockets and _hubs.get(id(services)) is hub:
        del _hubs[id(services)]
        hub.stop()


def control_message(raw: bytes) -> tuple[str, dict[str, Any]] | None:
    """(attempt id, the message the candidate's page gets) from a bus payload, or None."""
    try:
        value = json.loads(raw)
        attempt_id = value["attempt_id"]
        action = value["action"]
        text = value.get("text") or ""
        at = float(value.get("at") or time.time())
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(attempt_id, str) or action not in ACTIONS or not isinstance(text, str):
        return None
    return attempt_id, {"type": "control", "action": action, "text": text[:MAX_TEXT], "at": at}


@router.get(
    "/api/v1/attempts/{attempt_id}/live",
    roles=store.CANDIDATE,
    summary="Proctor messages for my attempt (WebSocket)",
    description="Upgrade to a WebSocket. The server first sends "
    '`{"type": "hello", "attempt_id": ...}` once it listens, then '
    '`{"type": "control", "action": "message|warn|pause|resume|terminate", "text": ..., '
    '"at": ...}` for each proctor action on this attempt. Messages from the client are '
    "ignored. It closes with 4001 when the session ends. Only the attempt's own candidate, "
    "while the attempt is in progress.",
    errors=(
        ErrorSpec(403, "forbidden", "the page is on another origin"),
        ErrorSpec(404, "not_found", "not your attempt, or it is not in progress"),
    ),
)
async def attempt_live(req: ApiRequest) -> web.StreamResponse:
    if not same_origin(req.request, req.services.settings.effective_public_url):
        raise ApiError(403, "forbidden", "WebSocket from another origin")
    attempt_id = req.path["attempt_id"]
    async with req.services.db.session() as db:
        attempt = await store.own_attempt(db, attempt_id, store.caller_id(req))
    if attempt.status != "in_progress":
        raise ApiError(404, "not_found", f"attempt {attempt_id} is not in progress")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=4096)
    await ws.prepare(req.request)
    socket = _Socket(attempt.id, store.caller(req).session_id)
    hub = _join(req.services, socket)
    try:
        if not await hub.ready():
            await _close(ws, 1011, b"try again")
            return ws
        end = await _serve(ws, socket)
        if end is not None:
            await _close(ws, end.code, end.reason)
        else:
            await _close(ws, 1000, b"")
    finally:
        _leave(req.services, hub, socket)
    return ws


async def _serve(ws: web.WebSocketResponse, socket: _Socket) -> _End | None:
    """Forward the socket's queue until the client leaves (None) or the hub ends it."""
    await _send(ws, {"type": "hello", "attempt_id": socket.attempt_id})
    receiving: asyncio.Future[Any] | None = None
    getting: asyncio.Future[dict[str, Any] | _End] | None = None
    try:
        while not ws.closed:
            if receiving is None:
                receiving = asyncio.ensure_future(ws.receive())
            if getting is None:
                getting = asyncio.ensure_future(socket.queue.get())
            done, _ = await asyncio.wait({receiving, getting}, return_when=asyncio.FIRST_COMPLETED)
            if receiving in done:
                message, receiving = receiving.result(), None
                if message.type in _GONE:
                    return None
            if getting in done:
                item, getting = getting.result(), None
                if isinstance(item, _End):
                    return item
                await _send(ws, item)
        return None
    finally:
        for pending in (receiving, getting):
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending


async def _send(ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(SEND_TIMEOUT_S):
            await ws.send_json(message)


async def _close(ws: web.WebSocketResponse, code: int, message: bytes) -> None:
    if ws.closed:
        return
    with contextlib.suppress(Exception):
        async with asyncio.timeout(SEND_TIMEOUT_S):
            await ws.close(code=code, message=message)
