"""The candidate's side before a proctored attempt: consent, the system check, the check page.

Consent is asked per exam and stored with the text version it agreed to; the exams plugin asks
the ``invigilator_attempt_starting`` hook before it creates an attempt, and this module's
implementation refuses a proctored exam without consent to the current text.

The system check is the same WebRTC path as the attempt's stream, under a peer key that no
attempt can have (``check-<exam>-<user>``): the camera, microphone and connection are tested
exactly as they will be used, face detection runs on it (the analysis loop writes and scores
nothing for check peers), and the verdicts come from what the server actually received, not
from what the browser believes it sent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import numpy as np
from aiohttp import web
from pydantic import BaseModel, Field

from core.hookspecs import hookimpl
from core.services import Services
from media.peer import Peer, PeerLimit, SdpRejected
from plugins.accounts.audit import client_ip
from plugins.exams import store
from plugins.proctoring import calibration, consent, control_ws
from plugins.proctoring.analysis import CHECK_PREFIX
from plugins.proctoring.signaling import MAX_BODY, Answer, Offer, _error, _registry
from webapp.pages import render
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(tags=["proctoring"])
pages = Router()

LIGHT_MIN = 60.0  # mean luma (0-255) below which a face is too dark to check
LIGHT_MAX = 220.0  # above which it is washed out
SILENCE_DBFS = -70.0  # a live microphone in a quiet room stays above this; a muted one is -inf
LEVEL_FLOOR_DBFS = -120.0  # what digital silence is reported as (JSON has no -inf)
RECENT_AUDIO_CHUNKS = 32  # ~1 s of 16 kHz audio in 512-sample chunks
FACE_FRESH_S = 5.0  # an older face observation says nothing about now

_NOT_FOUND = ErrorSpec(404, "not_found", "no such exam, or it is not assigned to me")
_CONSENT = ErrorSpec(409, "consent_required", "agree to proctoring for this exam first")


class RuleSummary(BaseModel):
    kind: str
    label: str


class ProctoringSummary(BaseModel):
    """What proctoring asks of me in this exam, and whether I agreed."""

    exam_id: int
    enabled: bool
    consented: bool
    consented_at: datetime | None = None
    consent_text: str
    text_version: str
    analysis_fps: float
    snapshot_interval_s: float
    rules: list[RuleSummary]


class ConsentIn(BaseModel):
    text_version: str = Field(min_length=1, max_length=20, description="the version I read")


CheckName = Literal["camera", "microphone", "connection", "face", "light"]


class CheckItem(BaseModel):
    name: CheckName
    ok: bool
    message: str = Field(description="what the server sees, or what to do next")


class CheckStatus(BaseModel):
    """What the server receives from my system check, and a verdict per part."""

    connected: bool
    state: str
    frames_received: int = 0
    frame_width: int | None = None
    frame_height: int | None = None
    audio_chunks: int = 0
    audio_level: float | None = Field(None, description="RMS dBFS of the newest ~1 s of audio")
    faces: int | None = Field(None, description="faces in the newest analysed frame")
    brightness: float | None = Field(None, description="mean luma 0-255 of the newest frame")
    checks: list[CheckItem]
    ready: bool


def check_key(exam_id: int, user_id: int) -> str:
    """The registry key of one candidate's system check for one exam."""
    return f"{CHECK_PREFIX}{exam_id}-{user_id}"


@hookimpl
async def invigilator_attempt_starting(
    services: Services, exam_id: int, user_id: int, proctoring_policy: Mapping[str, Any]
) -> str | None:
    """Refuse to start a proctored exam until the candidate agreed to the current text."""
    if not consent.policy_of(proctoring_policy).enabled:
        return None
    async with services.db.session() as db:
        agreed = await consent.has_consented(db, exam_id, user_id)
    return None if agreed else "consent_required"


async def _summary(req: ApiRequest[Any, Any]) -> ProctoringSummary:
    exam_id = store.path_int(req, "exam_id")
    user_id = store.caller_id(req)
    async with req.services.db.session() as db:
        exam, seat = await store.candidate_exam(db, exam_id, user_id)
        row = await consent.current_consent(db, exam_id, user_id)
    policy = consent.policy_of(exam.proctoring_policy)
    agreed = row is not None and row.text_version == consent.CONSENT_VERSION
    rules = policy.rules_for(seat.exempt_detectors) if policy.enabled else []
    return ProctoringSummary(
        exam_id=exam_id,
        enabled=policy.enabled,
        consented=agreed,
        consented_at=row.consented_at if agreed and row is not None else None,
        consent_text=consent.consent_text(policy),
        text_version=consent.CONSENT_VERSION,
        analysis_fps=policy.analysis_fps,
        snapshot_interval_s=policy.snapshot_interval_s,
        rules=[RuleSummary(kind=rule.kind, label=rule.label) for rule in rules],
    )


@router.get(
    "/api/v1/exams/{exam_id}/proctoring",
    response=ProctoringSummary,
    roles=store.CANDIDATE,
    errors=[_NOT_FOUND],
)
async def get_proctoring(req: ApiRequest) -> ProctoringSummary:
    """Whether this exam is proctored, what is watched, the consent text and whether I agreed."""
    return await _summary(req)


@router.post(
    "/api/v1/exams/{exam_id}/proctoring/consent",
    body=ConsentIn,
    response=ProctoringSummary,
    roles=store.CANDIDATE,
    errors=[
        _NOT_FOUND,
        ErrorSpec(409, "stale_consent_text", "the consent text changed; read the new one"),
    ],
)
async def give_consent(req: ApiRequest[ConsentIn, Any]) -> ProctoringSummary | web.Response:
    """Record my consent to the current text (time and address); agreeing again is harmless."""
    exam_id = store.path_int(req, "exam_id")
    user_id = store.caller_id(req)
    async with req.services.db.session() as db:
        await store.candidate_exam(db, exam_id, user_id)
        if req.body.text_version != consent.CONSENT_VERSION:
            return _error(
                409,
                "stale_consent_text",
                f"the consent text is now version {consent.CONSENT_VERSION}; "
                "reload the page and read it again",
                req.request_id,
            )
        await consent.record_consent(db, exam_id, user_id, client_ip(req.request))
    return await _summary(req)


@router.post(
    "/api/v1/exams/{exam_id}/rtc/check",
    body=Offer,
    response=Answer,
    roles=store.CANDIDATE,
    max_body_bytes=MAX_BODY,
    errors=[
        _NOT_FOUND,
        _CONSENT,
        ErrorSpec(409, "too_many_peers", "this account already streams from enough devices"),
        ErrorSpec(413, "payload_too_large", "the offer exceeds the configured SDP limit"),
        ErrorSpec(422, "invalid_sdp", "the offer cannot be parsed or answered"),
        ErrorSpec(422, "too_many_tracks", "more audio/video sections than allowed"),
    ],
)
async def post_check_offer(req: ApiRequest[Offer, Any]) -> Answer | web.Response:
    """Answer a system-check WebRTC offer (no attempt yet); a new offer replaces the old one."""
    exam_id = store.path_int(req, "exam_id")
    principal = store.caller(req)
    user_id = store.caller_id(req)
    async with req.services.db.session() as db:
        exam, _ = await store.candidate_exam(db, exam_id, user_id)
        agreed = await consent.has_consented(db, exam_id, user_id)
    if consent.policy_of(exam.proctoring_policy).enabled and not agreed:
        return _error(409, "consent_required", "agree to proctoring first", req.request_id)
    registry = _registry(req)
    try:
        sdp = await registry.answer(
            check_key(exam_id, user_id),
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


@router.get(
    "/api/v1/exams/{exam_id}/rtc/check",
    response=CheckStatus,
    roles=store.CANDIDATE,
    errors=[_NOT_FOUND],
)
async def get_check(req: ApiRequest) -> CheckStatus:
    """What the server receives from my system check: frames, sound, faces, light, verdicts."""
    exam_id = store.path_int(req, "exam_id")
    user_id = store.caller_id(req)
    async with req.services.db.session() as db:
        await store.candidate_exam(db, exam_id, user_id)
    key = check_key(exam_id, user_id)
    peer = _registry(req).get(key)
    return check_status(peer, _faces(req.services, key))


@router.delete("/api/v1/exams/{exam_id}/rtc/check", status=204, roles=store.CANDIDATE)
async def close_check(req: ApiRequest) -> None:
    """End my system-check connection (the exam is starting, or the page is going away)."""
    exam_id = store.path_int(req, "exam_id")
    await _registry(req).close(check_key(exam_id, store.caller_id(req)))


def _faces(services: Services, key: str) -> tuple[bool, int | None]:
    """(whether a face detector runs here, the newest fresh face count or None)."""
    from plugins.proctoring.plugin import analysis_for  # noqa: PLC0415 (plugin imports us)

    analysis = analysis_for(services)
    if analysis is None or "face" not in analysis.pipeline.detectors:
        return False, None
    seen = analysis.latest(key, "face")
    if seen is None or time.time() - seen.ts > FACE_FRESH_S:
        return True, None
    count = seen.values.get("count")
    return True, int(count) if isinstance(count, int | float) else None


def brightness(frame: Any) -> float | None:
    """Mean luma (0-255) of a decoded frame, on a subsample (a verdict, not a measurement)."""
    try:
        luma = frame.to_ndarray(format="gray")
    except Exception:  # an odd pixel format must not fail the check page
        return None
    return round(float(np.asarray(luma)[::4, ::4].mean()), 1)


def audio_level(chunks: list[np.ndarray]) -> float | None:
    """RMS level in dBFS of the given 16-bit chunks; None when there are none."""
    if not chunks:
        return None
    samples = np.concatenate(chunks).astype(np.float64)
    rms = math.sqrt(float(np.mean(samples * samples)))
    if rms <= 0:
        return LEVEL_FLOOR_DBFS
    return round(max(LEVEL_FLOOR_DBFS, 20 * math.log10(rms / 32768.0)), 1)


def check_status(peer: Peer | None, faces: tuple[bool, int | None]) -> CheckStatus:
    """The verdicts for one check peer (None: nothing connected yet)."""
    detecting, face_count = faces
    if peer is None:
        state, connected = "none", False
        received, width, height, chunks, level, light = 0, None, None, 0, None, None
    else:
        state = peer.state
        connected = state == "connected"
        video = next((v for v in peer.video if not v.ended), None)
        frame = video.frame if video is not None else None
        received = sum(v.received for v in peer.video)
        width = frame.width if frame is not None else None
        height = frame.height if frame is not None else None
        light = brightness(frame) if frame is not None else None
        chunks = sum(a.chunks for a in peer.audio)
        level = audio_level(list(peer.audio[0].ring)[-RECENT_AUDIO_CHUNKS:]) if peer.audio else None
    checks = [
        _camera(peer, received, width, height),
        _microphone(peer, chunks, level),
        _connection(state),
        _face(detecting, face_count, light is not None),
        _light(light),
    ]
    return CheckStatus(
        connected=connected,
        state=state,
        frames_received=received,
        frame_width=width,
        frame_height=height,
        audio_chunks=chunks,
        audio_level=level,
        faces=face_count,
        brightness=light,
        checks=checks,
        ready=all(c.ok for c in checks),
    )


def _camera(peer: Peer | None, received: int, width: int | None, height: int | None) -> CheckItem:
    if peer is None:
        message = "Allow this page to use your camera, then wait a moment."
        return CheckItem(name="camera", ok=False, message=message)
    if not peer.video:
        message = "No camera is being sent: allow the camera for this page, then reload it."
        return CheckItem(name="camera", ok=False, message=message)
    if received == 0 or width is None:
        message = "Waiting for a picture. If none comes, close other apps that use the camera."
        return CheckItem(name="camera", ok=False, message=message)
    return CheckItem(name="camera", ok=True, message=f"Working ({width}x{height}).")


def _microphone(peer: Peer | None, chunks: int, level: float | None) -> CheckItem:
    if peer is None or not peer.audio:
        message = "Allow this page to use your microphone, then reload it."
        return CheckItem(name="microphone", ok=False, message=message)
    if chunks == 0 or level is None:
        message = "Waiting for sound. If nothing arrives, check that the microphone is plugged in."
        return CheckItem(name="microphone", ok=False, message=message)
    if level <= SILENCE_DBFS:
        message = "No sound: unmute your microphone, or choose another one in the browser."
        return CheckItem(name="microphone", ok=False, message=message)
    return CheckItem(name="microphone", ok=True, message="Working: sound arrives.")


def _connection(state: str) -> CheckItem:
    if state == "connected":
        return CheckItem(name="connection", ok=True, message="Connected to the exam server.")
    if state in ("new", "connecting"):
        message = "Connecting… If this takes more than a few seconds, try another network."
        return CheckItem(name="connection", ok=False, message=message)
    message = "Not connected. Reload the page; if it keeps failing, try another network."
    return CheckItem(name="connection", ok=False, message=message)


def _face(detecting: bool, count: int | None, picture: bool) -> CheckItem:
    if not detecting:
        message = "Not checked on this server. Keep your whole face in the picture."
        return CheckItem(name="face", ok=True, message=message)
    if count is None:
        waiting = "Looking for your face…" if picture else "Waiting for the camera."
        return CheckItem(name="face", ok=False, message=waiting)
    if count == 0:
        message = "No face found: face the camera and keep your whole face in the picture."
        return CheckItem(name="face", ok=False, message=message)
    if count > 1:
        message = f"{count} faces found: make sure only you are in the picture."
        return CheckItem(name="face", ok=False, message=message)
    return CheckItem(name="face", ok=True, message="One face, clearly visible.")


def _light(level: float | None) -> CheckItem:
    if level is None:
        return CheckItem(name="light", ok=False, message="Waiting for the camera.")
    if level < LIGHT_MIN:
        message = "Too dark: face a window or turn a lamp on."
        return CheckItem(name="light", ok=False, message=message)
    if level > LIGHT_MAX:
        message = "Too bright: move away from direct light or turn the camera from the window."
        return CheckItem(name="light", ok=False, message=message)
    return CheckItem(name="light", ok=True, message="Good light.")


@pages.get("/exams/{exam_id}/check", include_in_schema=False, roles=store.CANDIDATE)
async def check_page(req: ApiRequest) -> web.Response:
    """Consent, then the system check, then Start exam."""
    exam_id = store.path_int(req, "exam_id")
    async with req.services.db.session() as db:
        exam, _ = await store.candidate_exam(db, exam_id, store.caller_id(req))
    policy = consent.policy_of(exam.proctoring_policy)
    if not policy.enabled:
        raise web.HTTPSeeOther("/exams")
    lead, *points = consent.consent_text(policy).split("\n")
    return render(
        req.request,
        "proctoring/exam_check.html",
        {
            "title": f"Before you start · {exam.title}",
            "exam_id": exam_id,
            "exam_title": exam.title,
            "consent_lead": lead,
            "consent_points": [point.partition(": ") for point in points],
            "consent_version": consent.CONSENT_VERSION,
        },
    )


endpoints = [
    *router.endpoints,
    *calibration.router.endpoints,
    *pages.endpoints,
    *control_ws.router.endpoints,
]
"""Every route of the candidate's side, for the plugin's ``invigilator_routes``."""
