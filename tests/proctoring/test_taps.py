"""The taps keep bounded state whatever the sender does: the newest frame only, a ring of
16 kHz audio chunks, and capped telemetry."""

from __future__ import annotations

import asyncio
import fractions
import json
from collections.abc import Sequence

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.taps import (
    AUDIO_RATE,
    CHUNK_SAMPLES,
    AudioChunks,
    LatestFrame,
    Telemetry,
    TelemetryHandler,
    TelemetryRejected,
    parse_telemetry,
)


class ScriptedTrack(MediaStreamTrack):
    """Hands out the given frames as fast as they are asked for, then ends."""

    def __init__(self, kind: str, frames: Sequence[av.VideoFrame | av.AudioFrame]) -> None:
        super().__init__()
        self.kind = kind
        self.frames = list(frames)
        self.gate = asyncio.Event()
        self.gate.set()

    async def recv(self) -> av.VideoFrame | av.AudioFrame:
        await self.gate.wait()
        if not self.frames:
            raise MediaStreamError
        return self.frames.pop(0)


def video_frame(value: int) -> av.VideoFrame:
    array = np.full((48, 64, 3), value, dtype=np.uint8)
    return av.VideoFrame.from_ndarray(array, format="bgr24")


def stereo_48k(samples: int, pts: int) -> av.AudioFrame:
    tone = (np.sin(np.arange(samples) / 10) * 8000).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]).reshape(1, -1), "s16", "stereo")
    frame.sample_rate = 48_000
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, 48_000)
    return frame


async def finished(tap: LatestFrame | AudioChunks) -> None:
    assert tap.task is not None
    await asyncio.wait_for(tap.task, 5)


async def test_latest_frame_keeps_only_the_newest_and_counts_drops() -> None:
    tap = LatestFrame(ScriptedTrack("video", [video_frame(v) for v in (10, 20, 30, 40)]))
    tap.start()
    await finished(tap)
    assert (tap.received, tap.dropped) == (4, 3)
    frame = tap.take()
    assert frame is not None
    assert int(frame.to_ndarray(format="bgr24")[0, 0, 0]) in range(38, 43)  # yuv round trip
    assert tap.take() is None  # nothing new since
    assert tap.ended
    await tap.stop()


def test_latest_frame_taken_in_time_is_not_a_drop() -> None:
    tap = LatestFrame(ScriptedTrack("video", []))
    tap._accept(video_frame(1))
    assert tap.take() is not None
    tap._accept(video_frame(2))
    assert tap.take() is not None
    assert (tap.received, tap.dropped, tap.taken) == (2, 0, 2)


async def test_audio_is_resampled_to_16k_mono_chunks_in_a_ring() -> None:
    frames = [stereo_48k(960, n * 960) for n in range(50)]  # one second of 20 ms frames
    tap = AudioChunks(ScriptedTrack("audio", frames), capacity=8)
    tap.start()
    await finished(tap)
    # One second at 16 kHz is 16 000 samples: 31 whole chunks (the resampler may hold a few).
    assert tap.chunks in (30, 31)
    assert tap.overwritten == tap.chunks - 8
    chunks = tap.drain()
    assert len(chunks) == 8
    assert not tap.ring
    assert all(c.shape == (CHUNK_SAMPLES,) and c.dtype == np.int16 for c in chunks)
    assert max(int(np.abs(c).max()) for c in chunks) > 1000  # the tone survived
    assert AUDIO_RATE == 16_000
    await tap.stop()


def test_telemetry_parsing_accepts_known_types_only() -> None:
    record = parse_telemetry(json.dumps({"type": "visibility", "state": "hidden"}), 4096)
    assert record == Telemetry("visibility", {"state": "hidden"})
    for bad in ("not json", "[]", '{"type": "format_disk"}', '{"kind": "blur"}', b"\xff\xfe"):
        with pytest.raises(TelemetryRejected):
            parse_telemetry(bad, 4096)
    with pytest.raises(TelemetryRejected):
        parse_telemetry(json.dumps({"type": "blur", "pad": "x" * 5000}), 4096)


def test_telemetry_rate_cap_refills_over_time() -> None:
    now = [0.0]
    got: list[Telemetry] = []
    handler = TelemetryHandler(
        got.append, max_bytes=256, per_second=2, burst=3, clock=lambda: now[0]
    )
    results = [handler('{"type": "blur"}') for _ in range(5)]
    assert results == [True, True, True, False, False]
    now[0] = 1.0  # two more tokens
    assert [handler('{"type": "focus"}') for _ in range(3)] == [True, True, False]
    assert handler("x" * 300) is False
    assert (handler.accepted, handler.rejected, len(got)) == (5, 4, 5)
