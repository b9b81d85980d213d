"""Enrolled photos become reference embeddings; attempts and verifications read them back.

The accounts plugin owns the photo and its consent; this plugin owns the embedding. After a
photo is committed, accounts publishes ``enrollment.added`` (:mod:`core.channels`) and the
listener here embeds the photo off the event loop, stores the vector as a small JSON blob and
writes its key into ``face_enrollments.embedding_ref``. Nothing may leave a candidate without a
reference because one message was lost (a restart, a full subscriber queue), so three paths lead
to the same idempotent :func:`embed_enrollment`: the message, a periodic sweep over enrolled
photos without an embedding (also run at start-up and by ``invigilator identity backfill``), and
the first read of a reference that is still missing.

The embedding is written only while that photo is still the enrollment's current one and the
enrollment is active: a photo replaced or withdrawn meanwhile gets no embedding (its blob is
deleted again). The blob key is derived from the photo's key, so computing it twice writes the
same blob. A race with a withdrawal committed at the same moment can leave an embedding nobody
refers to; the sweep deletes such orphans.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.channels import ENROLLMENT_ADDED
from core.errors import NotFound
from core.services import Services
from plugins.accounts.tables import FaceEnrollment
from plugins.detectors.identity import faces
from plugins.detectors.identity.config import IdentityConfig

log = logging.getLogger(__name__)

PREFIX = "embeddings/"
_KEY = re.compile(r"embeddings/[0-9]+/[0-9a-f]{32}\.json")
LOCK_TTL_S = 120.0  # one process embeds a photo at a time; a crashed one frees it after this
NO_FACE_TTL_S = 86400.0  # a photo without a usable face is retried daily, not every sweep
ORPHAN_GRACE = timedelta(minutes=10)  # an embedding being written has a blob but no row yet
SWEEP_BATCH = 100
WORKERS = 4  # threads decoding enrollment photos and captures and waiting for embeddings

Outcome = Literal["stored", "present", "no_face", "gone", "busy"]
T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    """The process's threads for embeddings outside the detector (enrollment, verification)."""
    global _executor  # noqa: PLW0603 - one pool per process, like the embedding processes
    if _executor is None:
        _executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="identity")
    return _executor


async def off_loop(function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run blocking model work on the identity threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor(), partial(function, *args, **kwargs))


def embedding_key(user_id: int, photo_key: str) -> str:
    """Where the embedding of one photo is stored: the same photo always gives the same key."""
    digest = hashlib.sha256(photo_key.encode()).hexdigest()[:32]
    return f"{PREFIX}{user_id}/{digest}.json"


def _embed_photo(data: bytes, min_face_px: int) -> tuple[list[float] | None, int]:
    vector, count = faces.reference_of(faces.decode_rgb(data), min_face_px=min_face_px)
    return (None if vector is None else [round(float(v), 6) for v in vector]), count


async def _latest_id(db: AsyncSession, user_id: int) -> int | None:
    query = select(col(FaceEnrollment.id)).where(col(FaceEnrollment.user_id) == user_id)
    rows = await db.execute(query.order_by(col(FaceEnrollment.id).desc()).limit(1))
    return rows.scalars().first()


async def _current(db: AsyncSession, user_id: int) -> FaceEnrollment | None:
    query = select(FaceEnrollment).where(col(FaceEnrollment.user_id) == user_id)
    rows = await db.execute(query.order_by(col(FaceEnrollment.id).desc()).limit(1))
    return rows.scalars().first()


async def _still_wanted(db: AsyncSession, row: FaceEnrollment | None, photo_key: str) -> bool:
    """The photo is still this active enrollment's, and the enrollment is the user's latest."""
    return (
        row is not None
        and row.status == "active"
        and row.blob_key == photo_key
        and await _latest_id(db, row.user_id) == row.id
    )


async def embed_enrollment(
    services: Services, config: IdentityConfig, enrollment_id: int, photo_key: str
) -> Outcome:
    """Compute and store the embedding of one enrollment's photo; safe to call any number of
    times, from any process (the photo's key is the lock)."""
    async with services.db.session() as db:
        row = await db.get(FaceEnrollment, enrollment_id)
        if row is None or not await _still_wanted(db, row, photo_key):
            return "gone"
        if row.embedding_ref and row.embedding_model == faces.MODEL_NAME:
            return "present"
        user_id = row.user_id
    lock = f"identity:embed:{photo_key}"
    if await services.cache.incr(lock, ttl=LOCK_TTL_S) != 1:
        return "busy"
    try:
        return await _embed_locked(services, config, enrollment_id, user_id, photo_key)
    finally:
        await services.cache.delete(lock)


async def _embed_locked(
    services: Services, config: IdentityConfig, enrollment_id: int, user_id: int, photo_key: str
) -> Outcome:
    no_face = f"identity:noface:{photo_key}"
    if await services.cache.get(no_face) is not None:
        return "no_face"
    try:
        data = await services.blobs.get(photo_key)
    except NotFound:
        return "gone"
    started = time.perf_counter()
    vector, count = await off_loop(_embed_photo, data, config.min_face_px)
    if vector is None:
        await services.cache.set(no_face, b"1", ttl=NO_FACE_TTL_S)
        log.warning(
            "identity: no usable face in an enrolled photo",
            extra={"enrollment_id": enrollment_id, "faces": count},
        )
        return "no_face"
    key = embedding_key(user_id, photo_key)
    payload = {"model": faces.MODEL_NAME, "photo": photo_key, "vector": vector}
    await services.blobs.put(key, json.dumps(payload).encode(), "application/json")
    old: str | None = None
    async with services.db.session() as db:
        row = await db.get(FaceEnrollment, enrollment_id)
        wanted = await _still_wanted(db, row, photo_key)
        if wanted and row is not None:
            old = row.embedding_ref
            row.embedding_ref, row.embedding_model = key, faces.MODEL_NAME
            db.add(row)
            await db.commit()
    if not wanted:  # replaced or withdrawn while we computed: keep nothing of it
        await services.blobs.delete(key)
        return "gone"
    if old and old != key:
        await services.blobs.delete(old)
    log.info(
        "identity: reference embedding stored",
        extra={
            "enrollment_id": enrollment_id,
            "faces": count,
            "ms": round((time.perf_counter() - started) * 1000),
        },
    )
    return "stored"


async def reference_for(
    services: Services, config: IdentityConfig, user_id: int, *, compute: bool = True
) -> list[float] | None:
    """The user's reference embedding, or None when they have no active enrollment with a
    usable photo. A photo whose embedding is missing (or from another model) is embedded now
    when ``compute`` is set."""
    async with services.db.session() as db:
        row = await _current(db, user_id)
    if row is None or row.status != "active" or row.blob_key is None or row.id is None:
        return None
    if row.embedding_ref and row.embedding_model == faces.MODEL_NAME:
        try:
            payload = json.loads(await services.blobs.get(row.embedding_ref))
            vector = faces.as_reference(
                payload.get("vector") if isinstance(payload, dict) else None
            )
            if vector is not None:
                return [float(v) for v in vector]
        except (NotFound, ValueError, TypeError):
            pass
        log.warning("identity: unreadable embedding %s; computing it again", row.embedding_ref)
        async with services.db.session() as db:  # forget it so embed_enrollment redoes it
            stored = await db.get(FaceEnrollment, row.id)
            if stored is not None and stored.embedding_ref == row.embedding_ref:
                stored.embedding_model = None
                db.add(stored)
                await db.commit()
    if not compute:
        return None
    outcome = await embed_enrollment(services, config, row.id, row.blob_key)
    if outcome in ("stored", "present"):
        return await reference_for(services, config, user_id, compute=False)
    return None


async def catch_up(services: Services, config: IdentityConfig, now: datetime) -> int:
    """Embed enrolled photos that have no embedding yet, then delete orphaned embeddings.
    Returns how many embeddings were stored."""
    stored = 0
    after = 0
    while True:
        async with services.db.session() as db:
            query = (
                select(FaceEnrollment)
                .where(
                    col(FaceEnrollment.id) > after,
                    col(FaceEnrollment.status) == "active",
                    col(FaceEnrollment.blob_key).is_not(None),
                    or_(
                        col(FaceEnrollment.embedding_ref).is_(None),
                        col(FaceEnrollment.embedding_model).is_(None),
                        col(FaceEnrollment.embedding_model) != faces.MODEL_NAME,
                    ),
                )
                .order_by(col(FaceEnrollment.id))
                .limit(SWEEP_BATCH)
            )
            pending = [(row.id, row.blob_key) for row in (await db.execute(query)).scalars()]
        for enrollment_id, photo_key in pending:
            if enrollment_id is None or photo_key is None:
                continue
            after = max(after, enrollment_id)
            if await embed_enrollment(services, config, enrollment_id, photo_key) == "stored":
                stored += 1
        if len(pending) < SWEEP_BATCH:
            break
    await delete_orphans(services, now)
    return stored


async def delete_orphans(services: Services, now: datetime) -> int:
    """Delete embeddings no enrollment refers to (older than a grace period)."""
    async with services.db.session() as db:
        referenced = set(
            (
                await db.execute(
                    select(col(FaceEnrollment.embedding_ref)).where(
                        col(FaceEnrollment.embedding_ref).is_not(None)
                    )
                )
            ).scalars()
        )
    deleted = 0
    for info in await services.blobs.list(PREFIX):
        if (
            _KEY.fullmatch(info.key)
            and info.key not in referenced
            and info.modified < now - ORPHAN_GRACE
        ):
            await services.blobs.delete(info.key)
            deleted += 1
    return deleted


class Worker:
    """The listener and the periodic sweep of one app; started and stopped by the plugin."""

    def __init__(self, services: Services, config: IdentityConfig) -> None:
        self.services = services
        self.config = config
        self.tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(self._listen(), name="identity-enrollments"),
            loop.create_task(self._sweep(), name="identity-sweep"),
        ]

    async def stop(self) -> None:
        for task in [*self._loops, *self.tasks]:
            task.cancel()
        for task in [*self._loops, *self.tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loops, self.tasks = [], set()

    async def _listen(self) -> None:
        """Embed each announced photo; a malformed message is logged and skipped."""
        while True:
            try:
                async with self.services.bus.subscribe(ENROLLMENT_ADDED) as messages:
                    async for raw in messages:
                        try:
                            message = json.loads(raw)
                            enrollment_id = int(message["enrollment_id"])
                            photo_key = str(message["blob_key"])
                        except (ValueError, KeyError, TypeError):
                            log.warning("identity: ignored a malformed enrollment.added message")
                            continue
                        task = asyncio.get_running_loop().create_task(
                            self._embed(enrollment_id, photo_key)
                        )
                        self.tasks.add(task)
                        task.add_done_callback(self.tasks.discard)
                return  # the bus closed: the process is stopping
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("identity: enrollment listener failed; resubscribing")
                await asyncio.sleep(1)

    async def _embed(self, enrollment_id: int, photo_key: str) -> None:
        try:
            await embed_enrollment(self.services, self.config, enrollment_id, photo_key)
        except asyncio.CancelledError:
            raise
        except Exception:  # the sweep tries again later
            log.exception("identity: could not embed enrollment %s", enrollment_id)

    async def _sweep(self) -> None:
        interval = self.config.catch_up_interval_s
        while True:
            now = datetime.now(UTC)
            # One process per interval does the work; the others see the counter already taken.
            slot = int(now.timestamp() // interval)
            try:
                if await self.services.cache.incr(f"identity:sweep:{slot}", ttl=2 * interval) == 1:
                    stored = await catch_up(self.services, self.config, now)
                    if stored:
                        log.info("identity: missing embeddings computed", extra={"count": stored})
            except asyncio.CancelledError:
                raise
            except Exception:  # a backend may be down; the next round tries again
                log.exception("identity: embedding sweep failed")
            await asyncio.sleep(interval)
