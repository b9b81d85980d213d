"""The session WebSocket: tells an open page at once that its session ended, and why.

Each process keeps the sockets it holds (session id → socket → "ended" future) and one task
subscribed to the ``session.revoked`` bus channel; whichever process revoked a session, the one
holding the page's socket resolves that future, and the socket's own handler sends
``{"type": "session_ended", "reason": ...}`` and closes with code 4001. The handler does the
closing (not the listener) so that it is never reading while closing: aiohttp would then drop
the connection without the closing handshake, and clients would see 1006 instead of 4001.
The socket also re-checks its session now and then, so a bus message lost in transit, or a
session reaching its absolute expiry, still ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from core.channels import SESSION_REVOKED
from core.services import Services
from plugins.accounts import sessions
from plugins.accounts.authn import end_reason
from storage.tables.user import Role
from webapp.binding import principal_of
from webapp.errors import ApiError
from webapp.origin import same_origin
from webapp.routing import ApiRequest, ErrorSpec, Router

log = logging.getLogger("invigilator.accounts")

router = Router(prefix="/api/v1/auth", tags=["authentication"])

ALL_ROLES = frozenset(role.value for role in Role)
CLOSE_SESSION_ENDED = 4001
RECHECK_SECONDS = 15.0
_GONE = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)
SEND_TIMEOUT_SECONDS = 2.0

SHUTDOWN = "\0shutdown"  # resolves a socket's future when the server stops, not its session

_sockets: dict[str, dict[web.WebSocketResponse, asyncio.Future[str]]] = {}
_listener: asyncio.Task[None] | None = None


async def start_live_sessions(services: Services) -> None:
    """Subscribe to revocations; returns once the subscription is in place."""
    global _listener  # noqa: PLW0603  (one listener per process by design)
    await _cancel_listener()
    ready = asyncio.Event()
    _listener = asyncio.create_task(_listen(services, ready), name="accounts-live-sessions")
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({waiter, _listener}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()


async def stop_live_sessions() -> None:
    """Stop listening and close every socket this process holds (server going away)."""
    await _cancel_listener()
    for group in list(_sockets.values()):
        _resolve(group, SHUTDOWN)


def _resolve(group: dict[web.WebSocketResponse, asyncio.Future[str]], reason: str) -> None:
    for ended in group.values():
        if not ended.done():
            ended.set_result(reason)


async def _cancel_listener() -> None:
    global _listener
    task, _listener = _listener, None
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _listen(services: Services, ready: asyncio.Event) -> None:
    while True:
        try:
            async with services.bus.subscribe(SESSION_REVOKED) as messages:
                ready.set()
                async for raw in messages:
                    _on_revoked(raw)
            return  # the bus closed: the process is stopping
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("session revocation listener failed; resubscribing")
            await asyncio.sleep(1)


def _on_revoked(raw: bytes) -> None:
    try:
        message = json.loads(raw)
        session_id, reason = str(message["session_id"]), str(message.get("reason", ""))[:48]
    except (ValueError, KeyError, TypeError):
        log.warning("ignored a malformed session.revoked message")
        return
    _resolve(_sockets.get(session_id, {}), reason)


async def end_socket(ws: web.WebSocketResponse, reason: str) -> None:
    """Send ``session_ended`` and close with 4001; never blocks the caller for long."""
    if ws.closed:
        return
    with contextlib.suppress(Exception):
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            await ws.send_json({"type": "session_ended", "reason": reason})
    await _close(ws, CLOSE_SESSION_ENDED, b"session ended")


async def _close(ws: web.WebSocketResponse, code: int, message: bytes) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            await ws.close(code=code, message=message)


@router.get(
    "/session/events",
    roles=ALL_ROLES,
    summary="Session events (WebSocket)",
    description="Upgrade to a WebSocket. The server sends "
    '`{"type": "session_ended", "reason": ...}` when this session ends (reasons: '
    "`signed_in_elsewhere`, `logout`, `password_changed`, `password_reset`, `role_changed`, "
    "`account_disabled`, `refresh_token_reused`, `expired`) and closes with code 4001. "
    "Messages from the client are ignored. Browsers authenticate with the inv_access cookie.",
    errors=(
        ErrorSpec(400, "no_session", "API clients have no session to watch"),
        ErrorSpec(403, "forbidden", "the page is on another origin"),
    ),
)
async def session_events(req: ApiRequest) -> web.StreamResponse:
    principal = principal_of(req.request)
    session_id = principal.session_id if principal is not None else None
    if not session_id:
        raise ApiError(400, "no_session", "API clients have no session to watch")
    if not same_origin(req.request, req.services.settings.effective_public_url):
        raise ApiError(403, "forbidden", "WebSocket from another origin")
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=4096)
    await ws.prepare(req.request)
    ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    group = _sockets.setdefault(session_id, {})
    group[ws] = ended
    try:
        # A revocation between authentication and registration would otherwise be missed.
        if await sessions.is_active(req.services, session_id):
            reason = await _serve(ws, req.services, session_id, ended)
        else:
            reason = await end_reason(req.services, session_id)
        if reason == SHUTDOWN:
            await _close(ws, 1001, b"server shutting down")
        elif reason is not None:
            await end_socket(ws, reason)
        else:
            await _close(ws, 1000, b"")
    finally:
        group.pop(ws, None)
        if not group and _sockets.get(session_id) is group:
            del _sockets[session_id]
    return ws


async def _serve(
    ws: web.WebSocketResponse, services: Services, session_id: str, ended: asyncio.Future[str]
) -> str | None:
    """Wait until the session ends (its reason) or the client leaves (None).

    The session is also re-checked every few seconds, in case a revocation message was lost.
    """
    receiving: asyncio.Future[Any] | None = None
    try:
        while not ws.closed:
            if receiving is None:
                receiving = asyncio.ensure_future(ws.receive())
            done, _ = await asyncio.wait(
                {receiving, ended}, timeout=RECHECK_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if ended in done:
                return ended.result()
            if receiving in done:
                message, receiving = receiving.result(), None
                if message.type in _GONE:
                    return None
            elif not await sessions.is_active(services, session_id):
                return await end_reason(services, session_id)
        return None
    finally:
        if receiving is not None and not receiving.done():
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiving
