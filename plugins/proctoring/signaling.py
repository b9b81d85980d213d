"""Signalling: the candidate's browser posts an SDP offer and gets the server's answer.

Gathering completes on both sides before the offer and the answer are exchanged (no trickle
ICE), so one request sets a connection up and the server needs no socket per candidate for
signalling. Only the attempt's own candidate, while the attempt is in progress, may stream;
anything else is the same 404 the exams plugin gives, so attempt ids cannot be probed.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from core.errors import InvalidInput, NotFound, Unavailable
from media.peer import PeerLimit, PeerRegistry, SdpRejected
from plugins.exams import store
from webapp.pages import render
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/attempts/{attempt_id}/rtc", tags=["proctoring"])
pages = Router()
OBSERVERS = frozenset({"proctor", "admin", "examiner"})
# The body ceiling the web layer enforces before parsing; the configured SDP limit (at most
# 1 MiB) is checked on the parsed offer, so the answer names the configured number.
MAX_BODY = 1024 * 1024 + 4096


class Offer(BaseModel):
    sdp: str = Field(min_length=1)
    type: Literal["offer"]


class Answer(BaseModel):
    sdp: str
    type: Literal["answer"] = "answer"


class RtcStats(BaseModel):
    attempt_id: str
    connected: bool
    state: str
    frames_received: int = 0
    frames_dropped: int = 0
    frame_width: int | None = None
    frame_height: int | None = None
    audio_chunks: int = 0
    telemetry_accepted: int = 0
    telemetry_rejected: int = 0


def _registry(req: ApiRequest[Any, Any]) -> PeerRegistry:
    from plugins.proctoring.plugin import registry_for  # noqa: PLC0415 (plugin imports us)

    registry = registry_for(req.services)
    if registry is None:
        raise Unavailable("live proctoring is not running in this process")
    return registry


async def _streaming_attempt(req: ApiRequest[Any, Any]) -> str:
    attempt_id = req.path["attempt_id"]
    async with req.services.db.session() as db:
        attempt = await store.own_attempt(db, attempt_id, store.caller_id(req))
    if attempt.status != "in_progress":
        raise NotFound(f"attempt {attempt_id} is not in progress")
    return attempt.id


@router.post(
    "/offer",
    body=Offer,
    response=Answer,
    roles=store.CANDIDATE,
    max_body_bytes=MAX_BODY,
    errors=[
        ErrorSpec(404, "not_found", "not your attempt, or it is not in progress"),
        ErrorSpec(409, "too_many_peers", "this account already streams from enough devices"),
        ErrorSpec(413, "payload_too_large", "the offer exceeds the configured SDP limit"),
        ErrorSpec(422, "invalid_sdp", "the offer cannot be parsed or answered"),
        ErrorSpec(422, "too_many_tracks", "more audio/video sections than allowed"),
    ],
)
async def post_offer(req: ApiRequest[Offer, Any]) -> Answer | web.Response:
    """Answer a WebRTC offer for my attempt; a new offer replaces the previous connection."""
    attempt_id = await _streaming_attempt(req)
    registry = _registry(req)
    principal = store.caller(req)
    try:
        sdp = await registry.answer(
            attempt_id,
            req.body.sdp,
            user_id=principal.user_id,
            session_id=principal.session_id,
        )
    except SdpRejected as exc:
        if exc.code == "sdp_too_large":
            return _error(413, "payload_too_large", str(exc), req.request_id)
        return _error(422, exc.code, str(exc), req.request_id)
    except PeerLimit as exc:
        return _error(409, "too_many_peers", str(exc), req.request_id)
    return Answer(sdp=sdp)


def _error(status: int, code: str, message: str, request_id: str) -> web.Response:
    """The standard envelope with a code of our own (core errors carry fixed codes)."""
    body = {"error": {"code": code, "message": message, "request_id": request_id}}
    return web.json_response(body, status=status)


@router.delete("", status=204, roles=store.CANDIDATE)
async def close_connection(req: ApiRequest) -> None:
    """Close my attempt's connection (the page is going away)."""
    attempt_id = req.path["attempt_id"]
    async with req.services.db.session() as db:
        await store.own_attempt(db, attempt_id, store.caller_id(req))
    await _registry(req).close(attempt_id)


@router.get("/stats", response=RtcStats, roles=OBSERVERS)
async def connection_stats(req: ApiRequest) -> RtcStats:
    """What the server received for an attempt: frames, drops, audio chunks, telemetry."""
    attempt_id = req.path["attempt_id"]
    if len(attempt_id) > 32:
        raise InvalidInput("attempt ids are at most 32 characters")
    peer = _registry(req).get(attempt_id)
    if peer is None:
        return RtcStats(attempt_id=attempt_id, connected=False, state="none")
    video = peer.video[0] if peer.video else None
    frame = video.frame if video is not None else None
    return RtcStats(
        attempt_id=attempt_id,
        connected=peer.state == "connected",
        state=peer.state,
        frames_received=sum(v.received for v in peer.video),
        frames_dropped=sum(v.dropped for v in peer.video),
        frame_width=frame.width if frame is not None else None,
        frame_height=frame.height if frame is not None else None,
        audio_chunks=sum(a.chunks for a in peer.audio),
        telemetry_accepted=peer.telemetry.accepted if peer.telemetry else 0,
        telemetry_rejected=peer.telemetry.rejected if peer.telemetry else 0,
    )


@pages.get("/proctoring/check/{attempt_id}", include_in_schema=False, roles=store.CANDIDATE)
async def check_page(req: ApiRequest) -> web.Response:
    """A connection check: publish camera, microphone and telemetry, show the state."""
    attempt_id = await _streaming_attempt(req)
    return render(
        req.request, "proctoring/check.html", {"title": "Camera check", "attempt_id": attempt_id}
    )
