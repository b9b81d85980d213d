"""Reference faces: decoding uploads safely, and deleting them when their time is up.

An upload is never stored as sent. It must decode completely, with the decoder of the
declared type only (a PNG sent as ``image/jpeg``, an HTML polyglot or a truncated file is
refused), within a pixel budget (a small file can declare a gigantic canvas), and it is then
re-encoded as a fresh JPEG: metadata such as GPS EXIF, comments and trailing payloads do not
survive, and whatever reaches the face detector or a browser later is a plain image the server
produced itself.

Deletion runs before the database change that forgets a blob, so a failure leaves a row
pointing at nothing (harmless, retried) rather than a face nobody can find any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import warnings
from datetime import UTC, datetime, timedelta

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import InvalidInput
from core.services import Services
from plugins.accounts import audit
from plugins.accounts.models import Enrollment
from plugins.accounts.tables import FaceEnrollment

log = logging.getLogger(__name__)

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
MIN_SIDE = 160
MAX_PIXELS = 40_000_000  # 40 MP: any camera photo, not a decompression bomb
STORED_MAX_SIDE = 1280  # plenty for a face embedding; keeps every stored photo small
PURGE_INTERVAL = timedelta(hours=1)
ORPHAN_GRACE = timedelta(hours=1)  # an upload in flight has a blob but no row yet
PREFIX = "enrollment/"
_PHOTO_KEY = re.compile(r"enrollment/[0-9]+/[0-9a-f]{32}\.jpg")
_LIVE = ("consented", "active")


class InvalidImage(InvalidInput):
    code = "invalid_image"


def normalise_photo(data: bytes, content_type: str) -> bytes:
    """Decode ``data`` strictly and return it re-encoded as a metadata-free JPEG.

    CPU-bound: call it through ``asyncio.to_thread``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[FORMATS[content_type]]) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise InvalidImage(f"the image has more than {MAX_PIXELS} pixels")
                if min(width, height) < MIN_SIDE:
                    raise InvalidImage(
                        f"the image is {width}x{height}; it must be at least "
                        f"{MIN_SIDE}x{MIN_SIDE} pixels"
                    )
                image.load()  # decodes everything: a truncated file fails here
                upright = ImageOps.exif_transpose(image)  # keep the orientation EXIF encoded
                rgb = upright.convert("RGB")
    except InvalidImage:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        EOFError,
    ) as error:
        raise InvalidImage(
            f"the body is not a complete {content_type} image", details={"reason": str(error)}
        ) from None
    rgb.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE))
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=90)  # no exif=, icc_profile= or comment=: nothing carried over
    return out.getvalue()


def to_public(row: FaceEnrollment | None) -> Enrollment:
    if row is None:
        return Enrollment(status="none")
    status = row.status if row.status in ("consented", "active", "withdrawn") else "none"
    return Enrollment(
        status=status,
        enrollment_id=row.id,
        consent_given_at=row.consent_given_at,
        consent_text_version=row.consent_text_version,
        retention_until=row.retention_until,
        has_photo=row.blob_key is not None,
        has_embedding=row.embedding_ref is not None,
        embedding_model=row.embedding_model,
    )


async def current(db: AsyncSession, user_id: int) -> FaceEnrollment | None:
    """The user's latest enrollment (earlier ones are withdrawn or expired)."""
    query = select(FaceEnrollment).where(col(FaceEnrollment.user_id) == user_id)
    rows = await db.execute(query.order_by(col(FaceEnrollment.id).desc()).limit(1))
    return rows.scalars().first()


def blob_keys(row: FaceEnrollment) -> list[str]:
    return [key for key in (row.blob_key, row.embedding_ref) if key]


async def delete_blobs(services: Services, keys: list[str]) -> None:
    for key in keys:
        await services.blobs.delete(key)


async def purge_expired(services: Services, now: datetime) -> int:
    """Delete every enrollment whose ``retention_until`` has passed, with its photo and
    embedding, and audit each as ``enrollment.expired``; then remove photos no row refers to
    (left by a crash between storing a photo and committing). Returns enrollments deleted."""
    async with services.db.session() as db:
        expired = list(
            (
                await db.execute(
                    select(FaceEnrollment).where(col(FaceEnrollment.retention_until) <= now)
                )
            ).scalars()
        )
        for row in expired:
            await delete_blobs(services, blob_keys(row))
            audit.record(
                db,
                "enrollment.expired",
                user_id=row.user_id,
                enrollment_id=row.id,
                status=row.status,
                retention_until=row.retention_until.isoformat(),
            )
        if expired:
            ids = [row.id for row in expired]
            await db.execute(delete(FaceEnrollment).where(col(FaceEnrollment.id).in_(ids)))
            await db.commit()
        referenced = set(
            (
                await db.execute(
                    select(col(FaceEnrollment.blob_key)).where(
                        col(FaceEnrollment.blob_key).is_not(None)
                    )
                )
            ).scalars()
        )
    for info in await services.blobs.list(PREFIX):
        if (
            _PHOTO_KEY.fullmatch(info.key)
            and info.key not in referenced
            and info.modified < now - ORPHAN_GRACE
        ):
            await services.blobs.delete(info.key)
    return len(expired)


_task: asyncio.Task[None] | None = None


async def _purge_loop(services: Services) -> None:
    while True:
        now = datetime.now(UTC)
        # One process per interval does the work; the others see the counter already taken.
        slot = int(now.timestamp() // PURGE_INTERVAL.total_seconds())
        lock = f"accounts:enrollment-purge:{slot}"
        try:
            if await services.cache.incr(lock, ttl=2 * PURGE_INTERVAL.total_seconds()) == 1:
                purged = await purge_expired(services, now)
                if purged:
                    log.info("expired enrollments deleted", extra={"count": purged})
        except Exception:  # a backend may be down; the next round tries again
            log.exception("enrollment retention clean-up failed")
        await asyncio.sleep(PURGE_INTERVAL.total_seconds())


async def start_retention_task(services: Services) -> None:
    """Start the hourly clean-up in this process (idempotent); call from plugin start-up."""
    global _task  # noqa: PLW0603 - one task per process, like the outbox
    if _task is None or _task.done():
        _task = asyncio.create_task(_purge_loop(services), name="enrollment-retention")


async def stop_retention_task() -> None:
    """Stop the clean-up; call from plugin shutdown while the backends are still open."""
    global _task
    task, _task = _task, None
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
