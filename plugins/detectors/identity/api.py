"""Face verification for the start of an exam (or a face login), and an attempt's identity.

``POST /api/v1/identity/verify`` takes a live capture exactly as the enrollment photo is sent
(an ``image/jpeg`` or ``image/png`` body) and goes through the same strict intake (declared
format only, complete decode, pixel budget, at least 160x160, re-encoded), so both images reach
the model the same way. It compares the caller's own face with the caller's own reference: there
is no user id to tamper with. Each verification is recorded as an ``identity.verify`` event.

``GET /api/v1/attempts/{attempt_id}/identity`` answers a proctor's "who is this?" from the event
log: the newest ``observation.identity`` of the attempt.
"""

from __future__ import annotations

import time
from datetime import UTC
from typing import Literal, get_args

from pydantic import BaseModel, Field

from core.errors import NotFound
from core.events import Event
from plugins.accounts.enrollment_store import FORMATS, normalise_photo
from plugins.detectors.identity import faces
from plugins.detectors.identity.config import SECTION, IdentityConfig
from plugins.detectors.identity.references import off_loop, reference_for
from plugins.exams.tables import Attempt
from webapp.binding import principal_of, read_body_limited
from webapp.errors import ApiError
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(tags=["identity"])
CANDIDATE = {"candidate"}
OBSERVERS = {"proctor", "examiner", "admin"}
ROUTE_LIMIT = 20 * 1024 * 1024  # the largest verify_max_bytes allowed

clock = time.time  # replaced in tests

Checked = Literal["match", "mismatch", "no_reference", "no_face", "skipped"]


class VerifyResult(BaseModel):
    status: Checked = Field(
        description="match / mismatch: compared with the reference; no_reference: no enrolled "
        "photo to compare with; no_face: none found; skipped: faces too small to compare"
    )
    distance: float | None = Field(
        None, description="embedding distance to the reference (same person at or below threshold)"
    )
    faces: int = Field(description="faces found in the capture")
    threshold: float


class AttemptIdentity(BaseModel):
    attempt_id: str
    status: Checked | Literal["unchecked"] = Field(
        description="the newest identity observation; unchecked before the first"
    )
    distance: float | None = None
    faces: int | None = None
    at: float | None = Field(None, description="when it was observed, seconds since the epoch")


def _config(req: ApiRequest) -> IdentityConfig:
    return req.services.section(SECTION, IdentityConfig)


def _me(req: ApiRequest) -> int:
    principal = principal_of(req.request)
    user_id = principal.user_id if principal is not None else ""
    if not user_id.isascii() or not user_id.isdigit():  # a machine client has no face
        raise NotFound("no enrollment for this caller")
    return int(user_id)


async def _throttle(req: ApiRequest, user_id: int, per_minute: int) -> None:
    """Each verification costs an embedding: a candidate gets ``per_minute`` of them."""
    now = clock()
    used = await req.services.cache.incr(f"identity:verify:{user_id}:{int(now // 60)}", ttl=120)
    if used > per_minute:
        seconds = 60 - int(now % 60)
        raise ApiError(
            429,
            "rate_limited",
            f"too many verifications; retry in {seconds} s",
            {"retry_after": seconds},
            headers={"Retry-After": str(seconds)},
        )


def _unavailable(reason: str) -> ApiError:
    return ApiError(503, "identity_unavailable", f"face verification is not available: {reason}")


def _verify(photo: bytes, reference: list[float] | None, config: IdentityConfig) -> faces.Verdict:
    """Blocking: decode the re-encoded capture, find faces and compare (identity threads)."""
    rgb = faces.decode_rgb(photo)
    found = faces.find_faces(rgb)
    vector = faces.as_reference(reference)
    if vector is None:
        return faces.Verdict("no_reference", None, len(found))
    return faces.compare(
        rgb,
        found,
        vector,
        threshold=config.threshold,
        min_face_px=config.min_face_px,
        max_faces=config.max_faces,
    )


@router.post(
    "/api/v1/identity/verify",
    response=VerifyResult,
    roles=CANDIDATE,
    max_body_bytes=ROUTE_LIMIT,
    errors=[
        ErrorSpec(413, "payload_too_large", "Larger than verify_max_bytes."),
        ErrorSpec(415, "unsupported_media_type", "Not sent as image/jpeg or image/png."),
        ErrorSpec(422, "invalid_image", "Not a complete image of the declared type, ≥ 160x160."),
        ErrorSpec(429, "rate_limited", "More than verify_per_minute verifications this minute."),
        ErrorSpec(503, "identity_unavailable", "Identity is switched off or its model is missing."),
    ],
)
async def verify(req: ApiRequest) -> VerifyResult:
    """Is the face in this live capture the caller's enrolled face?

    Send the capture as the body, ``image/jpeg`` or ``image/png`` (like the enrollment photo).
    Use it before an exam starts or as a face check at sign-in; the answer is also recorded as
    an ``identity.verify`` event.
    """
    config = _config(req)
    if not config.enabled:
        raise _unavailable("switched off on this server")
    content_type = req.request.content_type
    if content_type not in FORMATS:
        raise ApiError(415, "unsupported_media_type", "send the capture as image/jpeg or image/png")
    user_id = _me(req)
    await _throttle(req, user_id, config.verify_per_minute)
    raw = await read_body_limited(req.request, config.verify_max_bytes)
    photo = await off_loop(normalise_photo, raw, content_type)
    try:
        reference = await reference_for(req.services, config, user_id)
        verdict = await off_loop(_verify, photo, reference, config)
    except faces.ModelUnavailable as error:
        raise _unavailable(str(error)) from None
    result = VerifyResult(
        status=verdict.status,
        distance=verdict.distance,
        faces=verdict.faces,
        threshold=config.threshold,
    )
    await req.services.events.append(
        [
            Event(
                kind="identity.verify",
                source="identity",
                data={"user_id": user_id, **result.model_dump(exclude={"threshold"})},
            )
        ]
    )
    return result


@router.get(
    "/api/v1/attempts/{attempt_id}/identity",
    response=AttemptIdentity,
    roles=OBSERVERS,
    errors=[ErrorSpec(404, "not_found", "No such attempt.")],
)
async def attempt_identity(req: ApiRequest) -> AttemptIdentity:
    """The newest identity status of an attempt: match, mismatch, no reference, no face."""
    attempt_id = req.path["attempt_id"]
    if len(attempt_id) > 32:
        raise NotFound("no such attempt")
    async with req.services.db.session() as db:
        if await db.get(Attempt, attempt_id) is None:
            raise NotFound(f"attempt {attempt_id} does not exist")
    newest = await req.services.events.query(
        attempt_id=attempt_id, kinds=["observation.identity"], limit=1, newest_first=True
    )
    if not newest:
        return AttemptIdentity(attempt_id=attempt_id, status="unchecked")
    data = newest[0].data
    status = data.get("status")
    distance = data.get("distance")
    faces_seen = data.get("faces")
    return AttemptIdentity(
        attempt_id=attempt_id,
        status=status if status in get_args(Checked) else "unchecked",
        distance=float(distance) if isinstance(distance, int | float) else None,
        faces=faces_seen if isinstance(faces_seen, int) else None,
        at=newest[0].ts.astimezone(UTC).timestamp(),
    )
