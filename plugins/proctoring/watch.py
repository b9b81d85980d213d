"""Watching: a proctor's browser posts a receive-only offer and gets the candidate's live video
and audio, relayed by this process over a connection of the proctor's own.

Only the process that holds the candidate's peer can answer, so "no live connection here" is a
404 the page retries (the candidate may be reconnecting). Watching someone is recorded in the
event log before the answer goes out: who watched is part of the attempt's record, and a watch
that cannot be recorded is not allowed to start.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.events import Event
from media.relay import NotWatchable, WatcherLimit
from media.sdp import SdpRejected
from plugins.exams import store
from plugins.proctoring.live import CHECK_PREFIX
from plugins.proctoring.signaling import MAX_BODY, OBSERVERS, Answer, Offer, _error, _registry
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/proctor/attempts/{attempt_id}", tags=["proctoring"])


@router.post(
    "/watch",
    body=Offer,
    response=Answer,
    roles=OBSERVERS,
    max_body_bytes=MAX_BODY,
    errors=[
        ErrorSpec(404, "not_found", "the attempt has no live connection in this process"),
        ErrorSpec(409, "too_many_watchers", "the attempt already has as many watchers as allowed"),
        ErrorSpec(413, "payload_too_large", "the offer exceeds the configured SDP limit"),
        ErrorSpec(422, "invalid_sdp", "unparseable, sends media, or cannot be answered"),
        ErrorSpec(422, "too_many_tracks", "more audio/video sections than allowed"),
    ],
)
async def watch(req: ApiRequest[Offer, Any]) -> Answer | web.Response:
    """Watch an attempt live: answer my receive-only offer with its relayed video and audio.

    A new offer from the same person replaces their previous watch (a reload, a reconnect).
    """
    attempt_id = req.path["attempt_id"]
    registry = _registry(req)
    principal = store.caller(req)
    if attempt_id.startswith(CHECK_PREFIX):  # a pre-exam system check is nobody's to watch
        return _not_live(attempt_id, req.request_id)
    try:
        sdp = await registry.watch(
            attempt_id,
            req.body.sdp,
            user_id=principal.user_id,
            session_id=principal.session_id,
        )
    except NotWatchable:
        return _not_live(attempt_id, req.request_id)
    except WatcherLimit as exc:
        return _error(409, "too_many_watchers", str(exc), req.request_id)
    except SdpRejected as exc:
        if exc.code == "sdp_too_large":
            return _error(413, "payload_too_large", str(exc), req.request_id)
        return _error(422, exc.code, str(exc), req.request_id)
    event = Event(
        kind="proctor.watch",
        attempt_id=attempt_id,
        source="proctoring",
        data={"user_id": principal.user_id},
    )
    try:
        await req.services.events.append([event])
    except BaseException:
        await registry.unwatch(attempt_id, principal.user_id)
        raise
    return Answer(sdp=sdp)


def _not_live(attempt_id: str, request_id: str) -> web.Response:
    message = f"attempt {attempt_id} has no live connection here; retry while it reconnects"
    return _error(404, "not_found", message, request_id)


@router.delete("/watch", status=204, roles=OBSERVERS)
async def stop_watching(req: ApiRequest) -> None:
    """Stop my watch of the attempt (the page is going away); nothing to stop is fine too."""
    await _registry(req).unwatch(req.path["attempt_id"], store.caller(req).user_id)
