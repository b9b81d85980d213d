"""The bell's WebSocket: new in-app notifications reach the person's open pages at once.

Like the proctoring control socket, each process keeps one hub per app: one bus subscription to
:data:`inapp.INBOX_CHANNEL` (and one to ``session.revoked``) that fans messages out to the
sockets of that user. The hub starts with the first socket and stops with the last; the
handler alone writes to and closes its socket. A signed-out session's sockets are closed with
4001 at once, so a revoked session hears nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from core.channels import SESSION_REVOKED
from core.services import Services
from plugins.exams import store
from plugins.notify import inapp
from webapp.errors import ApiError
from webapp.origin import same_origin
from webapp.routing import ApiRequest, ErrorSpec, Router

log = logging.getLogger("invigilator.notify")
router = Router(tags=["notifications"])
SIGNED_IN = frozenset({"candidate", "proctor", "examiner", "admin"})
QUEUE_SIZE = 32
HEARTBEAT_S = 30.0
CLOSE_SESSION_ENDED = 4001
ENDED = {"type": "session_ended"}  # queued instead of a notification: close the socket


@dataclass(eq=False)
class _Socket:
    user_id: int
    session_id: str | None
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, item: dict[str, Any]) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(item)


class _Hub:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.sockets: dict[int, set[_Socket]] = {}
        self.ready = asyncio.Event()
        loop = asyncio.get_running_loop()
        inbox_ready, revoked_ready = asyncio.Event(), asyncio.Event()
        self.tasks = [
            loop.create_task(self._follow(inapp.INBOX_CHANNEL, self._on_inbox, inbox_ready)),
            loop.create_task(self._follow(SESSION_REVOKED, self._on_revoked, revoked_ready)),
        ]
        self._waiting = asyncio.gather(inbox_ready.wait(), revoked_ready.wait())

    async def wait_ready(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.shield(self._waiting)

    def stop(self) -> None:
        self._waiting.cancel()
        for task in self.tasks:
            task.cancel()

    async def _follow(
        self, channel: str, handle: Callable[[bytes], None], ready: asyncio.Event
    ) -> None:
        while True:
            try:
                async with self.services.bus.subscribe(channel) as messages:
                    ready.set()
                    async for raw in messages:
                        handle(raw)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notify: %s listener failed; resubscribing", channel)
                await asyncio.sleep(1)

    def _on_inbox(self, raw: bytes) -> None:
        try:
            value = json.loads(raw)
            user_id, item = int(value["user_id"]), dict(value["notification"])
        except (ValueError, KeyError, TypeError):
            return
        for socket in self.sockets.get(user_id, ()):
            socket.offer({"type": "notification", "notification": item})

    def _on_revoked(self, raw: bytes) -> None:
        try:
            session_id = str(json.loads(raw)["session_id"])
        except (ValueError, KeyError, TypeError):
            return
        for group in self.sockets.values():
            for socket in group:
                if socket.session_id == session_id:
                    socket.offer(ENDED)


_hubs: dict[int, _Hub] = {}


def _join(services: Services, socket: _Socket) -> _Hub:
    hub = _hubs.get(id(services))
    if hub is None:
        hub = _hubs[id(services)] = _Hub(services)
    hub.sockets.setdefault(socket.user_id, set()).add(socket)
    return hub


def _leave(services: Services, hub: _Hub, socket: _Socket) -> None:
    group = hub.sockets.get(socket.user_id, set())
    group.discard(socket)
    if not group:
        hub.sockets.pop(socket.user_id, None)
    if not hub.sockets and _hubs.get(id(services)) is hub:
        del _hubs[id(services)]
        hub.stop()


@router.get(
    "/api/v1/notifications/live",
    roles=SIGNED_IN,
    summary="My new notifications as they arrive (WebSocket)",
    description='Upgrade to a WebSocket. The server sends `{"type": "hello", "unread": n}` once '
    'it listens, then `{"type": "notification", "notification": {...}}` for each new in-app '
    "notification of the signed-in person. Messages from the client are ignored. It closes "
    "with 4001 when the session ends.",
    errors=(ErrorSpec(403, "forbidden", "the page is on another origin"),),
)
async def live(req: ApiRequest) -> web.StreamResponse:
    if not same_origin(req.request, req.services.settings.effective_public_url):
        raise ApiError(403, "forbidden", "WebSocket from another origin")
    socket = _Socket(store.caller_id(req), store.caller(req).session_id)
    hub = _join(req.services, socket)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=4096)
    try:
        await ws.prepare(req.request)
        await hub.wait_ready()
        async with req.services.db.session() as db:
            count = await inapp.unread(db, socket.user_id)
        await ws.send_json({"type": "hello", "unread": count})
        if await _serve(ws, socket.queue):
            await ws.close(code=CLOSE_SESSION_ENDED, message=b"session ended")
    finally:
        _leave(req.services, hub, socket)
        if not ws.closed:
            await ws.close()
    return ws


async def _serve(ws: web.WebSocketResponse, queue: asyncio.Queue[dict[str, Any]]) -> bool:
    """Forward the queue until the client leaves (False) or the session ends (True)."""
    receiving: asyncio.Future[Any] = asyncio.ensure_future(ws.receive())
    getting: asyncio.Future[dict[str, Any]] = asyncio.ensure_future(queue.get())
    try:
        while not ws.closed:
            done, _ = await asyncio.wait({receiving, getting}, return_when=asyncio.FIRST_COMPLETED)
            if receiving in done:
                if receiving.result().type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
                    return False
                receiving = asyncio.ensure_future(ws.receive())
            if getting in done:
                item = getting.result()
                if item is ENDED:
                    return True
                await ws.send_json(item)
                getting = asyncio.ensure_future(queue.get())
        return False
    finally:
        for pending in (receiving, getting):
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
