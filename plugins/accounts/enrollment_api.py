"""Face enrollment API: a candidate's consent, reference photo and withdrawal; admins read it.

Candidate routes carry no user id: the enrollment is always the caller's own, so there is no
id to tamper with. Consent comes first and is recorded with its time, address and the version
of the text accepted; the photo is kept until ``retention_until`` (consent time plus
``enrollment_retention_days``) or until the candidate withdraws, whichever comes first.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime, timedelta

from aiohttp import web

from core.channels import ENROLLMENT_ADDED
from core.errors import Conflict, NotFound
from plugins.accounts import audit
from plugins.accounts.config import AccountsConfig
from plugins.accounts.enrollment_store import (
    FORMATS,
    blob_keys,
    current,
    delete_blobs,
    normalise_photo,
    purge_expired,
    start_retention_task,
    stop_retention_task,
    to_public,
)
from plugins.accounts.models import ConsentIn, Enrollment
from plugins.accounts.tables import FaceEnrollment
from plugins.accounts.user_admin import get_user, parse_id
from webapp.binding import principal_of, read_body_limited
from webapp.errors import ApiError
from webapp.routing import ApiRequest, ErrorSpec, Router

__all__ = ["purge_expired", "router", "start_retention_task", "stop_retention_task"]

router = Router(tags=["enrollment"])
CANDIDATE = {"candidate"}
PHOTO_ROUTE_LIMIT = 20 * 1024 * 1024  # the largest max_enrollment_photo_bytes allowed


class ConsentTextOutdated(Conflict):
    code = "consent_text_outdated"


class ConsentRequired(Conflict):
    code = "consent_required"


def _me(req: ApiRequest) -> int:
    principal = principal_of(req.request)
    user_id = parse_id(principal.user_id) if principal is not None else None
    if user_id is None:  # a machine client holds no candidate role; defence in depth
        raise NotFound("no enrollment for this caller")
    return user_id


def _config(req: ApiRequest) -> AccountsConfig:
    return req.services.section("accounts", AccountsConfig)


@router.get("/api/v1/me/enrollment", response=Enrollment, roles=CANDIDATE)
async def my_enrollment(req: ApiRequest) -> Enrollment:
    """The caller's enrollment: ``none`` until they consent."""
    async with req.services.db.session() as db:
        return to_public(await current(db, _me(req)))


@router.post(
    "/api/v1/me/enrollment/consent",
    body=ConsentIn,
    response=Enrollment,
    roles=CANDIDATE,
    errors=[ErrorSpec(409, "consent_text_outdated", "The text accepted is not the current one.")],
)
async def give_consent(req: ApiRequest[ConsentIn, None]) -> Enrollment:
    """Record consent to keep a reference face, with time, address and text version.

    Consenting again (to a newer text) renews the consent and its retention date.
    """
    config = _config(req)
    if req.body.text_version != config.consent_text_version:
        raise ConsentTextOutdated(
            "the consent text has changed; read the current version and consent again",
            details={"current_version": config.consent_text_version},
        )
    user_id = _me(req)
    now = datetime.now(UTC)
    async with req.services.db.session() as db:
        row = await current(db, user_id)
        if row is None or row.status not in ("consented", "active"):
            row = FaceEnrollment(
                user_id=user_id,
                consent_text_version="",
                consent_given_at=now,
                retention_until=now,
            )
        row.consent_text_version = req.body.text_version
        row.consent_given_at = now
        row.consent_ip = audit.client_ip(req.request)
        row.retention_until = now + timedelta(days=config.enrollment_retention_days)
        db.add(row)
        await db.flush()
        audit.record(
            db,
            "enrollment.consented",
            user_id=user_id,
            request=req.request,
            enrollment_id=row.id,
            text_version=row.consent_text_version,
            retention_until=row.retention_until.isoformat(),
        )
        await db.commit()
    return to_public(row)


@router.put(
    "/api/v1/me/enrollment/photo",
    response=Enrollment,
    roles=CANDIDATE,
    max_body_bytes=PHOTO_ROUTE_LIMIT,
    errors=[
        ErrorSpec(409, "consent_required", "Consent must be given before a photo."),
        ErrorSpec(413, "payload_too_large", "Larger than max_enrollment_photo_bytes."),
        ErrorSpec(415, "unsupported_media_type", "Not sent as image/jpeg or image/png."),
        ErrorSpec(422, "invalid_image", "Not a complete image of the declared type, ≥ 160x160."),
    ],
)
async def put_photo(req: ApiRequest) -> Enrollment:
    """Upload (or replace) the reference photo: an ``image/jpeg`` or ``image/png`` body.

    The image is decoded and stored re-encoded as JPEG, without its metadata (GPS and other
    EXIF included), at most 1280 pixels on its longer side. The identity detector is told on
    the ``enrollment.added`` bus channel to compute the embedding.
    """
    content_type = req.request.content_type
    if content_type not in FORMATS:
        raise ApiError(415, "unsupported_media_type", "send the photo as image/jpeg or image/png")
    user_id = _me(req)
    async with req.services.db.session() as db:
        row = await current(db, user_id)
    if row is None or row.status not in ("consented", "active"):
        raise ConsentRequired("give consent before uploading a photo")
    raw = await read_body_limited(req.request, _config(req).max_enrollment_photo_bytes)
    photo = await asyncio.to_thread(normalise_photo, raw, content_type)
    key = f"enrollment/{user_id}/{secrets.token_hex(16)}.jpg"
    await req.services.blobs.put(key, photo, "image/jpeg")
    try:
        async with req.services.db.session() as db:
            row = await current(db, user_id)
            if row is None or row.status not in ("consented", "active"):  # withdrawn meanwhile
                raise ConsentRequired("give consent before uploading a photo")
            old = blob_keys(row)
            row.blob_key, row.content_type, row.status = key, "image/jpeg", "active"
            row.embedding_ref = row.embedding_model = None  # it described the old photo
            db.add(row)
            audit.record(
                db,
                "enrollment.photo_added",
                user_id=user_id,
                request=req.request,
                enrollment_id=row.id,
                replaced=bool(old),
            )
            await db.commit()
    except BaseException:
        await req.services.blobs.delete(key)
        raise
    await delete_blobs(req.services, old)
    message = {"user_id": str(user_id), "enrollment_id": str(row.id), "blob_key": key}
    await req.services.bus.publish(ENROLLMENT_ADDED, json.dumps(message).encode())
    return to_public(row)


@router.get(
    "/api/v1/me/enrollment/photo",
    roles=CANDIDATE,
    response_media_type="image/jpeg",
    errors=[ErrorSpec(404, "not_found", "No photo has been uploaded.")],
)
async def get_photo(req: ApiRequest) -> web.Response:
    """The caller's stored reference photo (as re-encoded by the server)."""
    async with req.services.db.session() as db:
        row = await current(db, _me(req))
    if row is None or row.blob_key is None or row.status not in ("consented", "active"):
        raise NotFound("no photo has been uploaded")
    data = await req.services.blobs.get(row.blob_key)
    return web.Response(
        body=data,
        content_type="image/jpeg",
        headers={"Cache-Control": "no-store", "Content-Disposition": "inline"},
    )


@router.delete("/api/v1/me/enrollment", roles=CANDIDATE)
async def withdraw(req: ApiRequest) -> None:
    """Withdraw consent: the photo and any embedding are deleted now. Idempotent."""
    user_id = _me(req)
    async with req.services.db.session() as db:
        row = await current(db, user_id)
        if row is None or row.status not in ("consented", "active"):
            return
        await delete_blobs(req.services, blob_keys(row))
        had_photo = row.blob_key is not None
        row.status, row.withdrawn_at = "withdrawn", datetime.now(UTC)
        row.blob_key = row.content_type = row.embedding_ref = row.embedding_model = None
        db.add(row)
        audit.record(
            db,
            "enrollment.withdrawn",
            user_id=user_id,
            request=req.request,
            enrollment_id=row.id,
            had_photo=had_photo,
        )
        await db.commit()


@router.get(
    "/api/v1/users/{user_id}/enrollment",
    response=Enrollment,
    roles={"admin"},
    errors=[ErrorSpec(404, "not_found", "No such user.")],
)
async def user_enrollment(req: ApiRequest) -> Enrollment:
    """A user's enrollment status (the photo itself is not served to admins)."""
    user_id = parse_id(req.path["user_id"])
    if user_id is None:
        raise NotFound("no such user")
    async with req.services.db.session() as db:
        await get_user(db, user_id)
        return to_public(await current(db, user_id))
