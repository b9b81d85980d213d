"""Track taps: what the server keeps of each incoming track, bounded by construction.

Analysis runs at a few frames per second while the camera sends 15-30, so a queue of frames
would only grow (and every queued frame is stale by the time it is looked at). A video tap
therefore keeps one pointer to the newest decoded frame and counts the frames that were
replaced before anyone took them. Audio is resampled once, at arrival, to the 16 kHz mono
signed 16-bit format speech models expect, cut into fixed 512-sample chunks and held in a ring
that overwrites its oldest chunk. Browser telemetry arrives on a data channel that the
candidate's machine controls, so every message is size- and rate-capped before it is parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

AUDIO_RATE = 16_000
CHUNK_SAMPLES = 512
TELEMETRY_TYPES = frozenset(
    {"visibility", "blur", "focus", "fullscreen_exit", "copy", "paste", "screens", "reload"}
)


class _Consumer:
    """A task that pulls one track until it ends; stopping it never raises."""

    def __init__(self, track: MediaStreamTrack) -> None:
        self.track = track
        self.task: asyncio.Task[None] | None = None
        self.ended = False

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while True:
                self._accept(await self.track.recv())
        except MediaStreamError:
            pass  # the remote side ended the track
        finally:
            self.ended = True

    def _accept(self, frame: Any) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.track.stop()


class LatestFrame(_Consumer):
    """The newest decoded video frame of one track, plus what happened to the others."""

    def __init__(self, track: MediaStreamTrack) -> None:
        super().__init__(track)
        self.frame: av.VideoFrame | None = None
        self.received = 0
        self.dropped = 0  # replaced before anyone took them
        self.taken = 0
        self._fresh = False

    def _accept(self, frame: Any) -> None:
        if self._fresh:
            self.dropped += 1
        self.frame = frame
        self._fresh = True
        self.received += 1

    def take(self) -> av.VideoFrame | None:
        """The newest frame if it arrived after the last take, else None (nothing new)."""
        if not self._fresh:
            return None
        self._fresh = False
        self.taken += 1
        return self.frame


class AudioChunks(_Consumer):
    """16 kHz mono s16 audio in fixed 512-sample chunks, the newest ``capacity`` kept."""

    def __init__(self, track: MediaStreamTrack, capacity: int = 64) -> None:
        super().__init__(track)
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        self.ring: deque[np.ndarray] = deque(maxlen=capacity)
        self.chunks = 0
        self.overwritten = 0
        self._pending = np.zeros(0, dtype=np.int16)

    def _accept(self, frame: Any) -> None:
        for out in self.resampler.resample(frame):
            self._append(out.to_ndarray().reshape(-1).astype(np.int16, copy=False))

    def _append(self, samples: np.ndarray) -> None:
        pending = np.concatenate((self._pending, samples)) if self._pending.size else samples
        whole = pending.size // CHUNK_SAMPLES * CHUNK_SAMPLES
        for start in range(0, whole, CHUNK_SAMPLES):
            if len(self.ring) == self.ring.maxlen:
                self.overwritten += 1
            self.ring.append(pending[start : start + CHUNK_SAMPLES].copy())
            self.chunks += 1
        self._pending = pending[whole:].copy()

    def drain(self) -> list[np.ndarray]:
        """Every chunk held, oldest first, emptying the ring."""
        chunks = list(self.ring)
        self.ring.clear()
        return chunks


class TelemetryRejected(ValueError):
    """A data-channel message that was too large, too frequent or not a telemetry record."""


@dataclass(frozen=True)
class Telemetry:
    type: str
    data: dict[str, Any]


def parse_telemetry(message: str | bytes, max_bytes: int) -> Telemetry:
    """One JSON object with a known ``type``; everything else is rejected, never raised past."""
    raw = message.encode() if isinstance(message, str) else message
    if len(raw) > max_bytes:
        raise TelemetryRejected(f"message of {len(raw)} bytes exceeds {max_bytes}")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise TelemetryRejected("not JSON") from exc
    if not isinstance(value, dict) or value.get("type") not in TELEMETRY_TYPES:
        raise TelemetryRejected("not a telemetry object with a known type")
    data = {k: v for k, v in value.items() if k != "type"}
    return Telemetry(type=str(value["type"]), data=data)


class TelemetryHandler:
    """Token-bucket rate cap then :func:`parse_telemetry`; accepted messages go to ``deliver``."""

    def __init__(
        self,
        deliver: Callable[[Telemetry], None],
        *,
        max_bytes: int = 4096,
        per_second: float = 10.0,
        burst: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.deliver = deliver
        self.max_bytes = max_bytes
        self.per_second = per_second
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.stamp = clock()
        self.accepted = 0
        self.rejected = 0

    def __call__(self, message: str | bytes) -> bool:
        """Handle one message; True when it was delivered."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now
        try:
            if self.tokens < 1:
                raise TelemetryRejected("rate limit")
            self.tokens -= 1
            record = parse_telemetry(message, self.max_bytes)
        except TelemetryRejected:
            self.rejected += 1
            return False
        self.accepted += 1
        self.deliver(record)
        return True
