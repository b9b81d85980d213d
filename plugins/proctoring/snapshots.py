"""Snapshots and thumbnails: JPEGs of sampled frames, for reviewers and for the live wall.

A snapshot is evidence: a full-size JPEG in the blob store every ``snapshot_interval_s`` and at
every violation start, referenced from an event so the review page can show what the camera
saw. A thumbnail is ephemeral: a small JPEG in the cache (shared by every process) that the
wall's tiles reload when the tile says a new one is there. Both are encoded from the frame the
sampler already converted, on a worker thread, so the event loop never pays for JPEG encoding.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import cv2
import numpy as np

from core.events import Event
from core.services import Services

THUMB_SIZE = (160, 120)
THUMB_TTL_S = 120.0
SNAPSHOT_QUALITY = 80
THUMB_QUALITY = 70


def thumb_key(attempt_id: str) -> str:
    return f"proctoring:thumb:{attempt_id}"


def snapshot_key(attempt_id: str, ts: float) -> str:
    return f"snapshots/{attempt_id}/{int(ts * 1000)}.jpg"


@dataclass(frozen=True)
class Encoded:
    snapshot: bytes
    thumbnail: bytes


def encode(image: np.ndarray) -> Encoded:
    """A full-size JPEG and a 160x120 one of a BGR frame (blocking; run it on a thread)."""
    ok, full = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY])
    if not ok:
        raise ValueError("the frame could not be encoded as JPEG")
    small = cv2.resize(image, THUMB_SIZE, interpolation=cv2.INTER_AREA)
    ok, thumb = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, THUMB_QUALITY])
    if not ok:
        raise ValueError("the thumbnail could not be encoded as JPEG")
    return Encoded(full.tobytes(), thumb.tobytes())


async def take(
    services: Services,
    attempt_id: str,
    image: np.ndarray,
    ts: float,
    *,
    reason: str,
    violation_id: str | None = None,
) -> str:
    """Encode, store the snapshot and the thumbnail, log a ``snapshot`` event; the blob key.

    The blob store is the durable one (a failed upload is retried from the outbox), so the key
    can be referenced before the upload finished.
    """
    encoded = await asyncio.to_thread(encode, image)
    key = snapshot_key(attempt_id, ts)
    await services.cache.set(thumb_key(attempt_id), encoded.thumbnail, ttl=THUMB_TTL_S)
    await services.blobs.put(key, encoded.snapshot, content_type="image/jpeg")
    data: dict[str, object] = {"blob_key": key, "reason": reason, "bytes": len(encoded.snapshot)}
    if violation_id is not None:
        data["violation_id"] = violation_id
    await services.events.append(
        [
            Event(
                kind="snapshot",
                ts=datetime.fromtimestamp(ts, UTC),
                attempt_id=attempt_id,
                source="proctoring",
                data=data,
            )
        ]
    )
    return key
