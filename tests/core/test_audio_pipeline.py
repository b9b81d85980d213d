"""The scheduler's audio lanes: audio accumulates per attempt until a clip is long enough, due
attempts go in one batch, a busy detector keeps only the newest audio and counts the rest as
drops, attempts that went away are forgotten on the detector's own thread, and video and audio
detectors live side by side."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from core.audio import AUDIO_RATE, AudioClip, AudioDetector, mix
from core.detectors import DetectorNeeds, Frame, Observation
from core.pipeline import Pipeline
from tests.core.test_pipeline import Recorder, Sink


class Listener:
    """Every event of the pipeline's listener interface."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, int, bool]] = []
        self.drops: list[tuple[str, int]] = []

    def ran(self, detector: str, batch: int, seconds: float, failed: bool) -> None:
        self.runs.append((detector, batch, failed))

    def dropped(self, detector: str, count: int) -> None:
        self.drops.append((detector, count))


class Ears:
    """An audio detector that records each batch; ``gate`` (when set) holds a batch."""

    def __init__(self, min_clip_s: float = 0.5, fail: bool = False) -> None:
        self.name = "ears"
        self.needs = DetectorNeeds(video=False, audio=True, min_interval_s=min_clip_s)
        self.batches: list[list[AudioClip]] = []
        self.forgotten: list[tuple[str, str]] = []
        self.threads: set[str] = set()
        self.fail = fail
        self.gate: threading.Event | None = None
        self.started = threading.Event()

    def load(self) -> None:
        pass

    def detect_audio(self, clips: Sequence[AudioClip]) -> list[Observation]:
        self.threads.add(threading.current_thread().name)
        self.started.set()
        if self.gate is not None:
            self.gate.wait(5)
        self.batches.append(list(clips))
        if self.fail:
            raise RuntimeError("model crashed")
        return [
            Observation(
                attempt_id=c.attempt_id,
                ts=c.ts,
                detector=self.name,
                values={"samples": int(c.samples.size)},
            )
            for c in clips
        ]

    def forget(self, attempt_id: str) -> None:
        self.forgotten.append((attempt_id, threading.current_thread().name))


def ramp(start: int, count: int) -> np.ndarray:
    """Samples that say where they came from: sample i of the stream is i (modulo 2**16)."""
    return np.arange(start, start + count).astype(np.int16)


def clip(attempt: str, ts: float, start: int, count: int, **context: object) -> AudioClip:
    return AudioClip(attempt, ts, ramp(start, count), context)


async def settle(pipeline: Pipeline) -> None:
    for _ in range(300):
        lanes = pipeline._audio_lanes.values()
        if all(lane.task is None for lane in lanes):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("audio lanes did not settle")


def test_the_ears_satisfy_the_audio_protocol() -> None:
    assert isinstance(Ears(), AudioDetector)
    assert not isinstance(Recorder(), AudioDetector)


async def test_audio_is_held_until_a_clip_is_long_enough_then_handed_over_whole() -> None:
    ears, sink = Ears(min_clip_s=0.5), Sink()
    pipeline = Pipeline([ears], sink)
    pipeline.submit_audio([clip("a", 1.0, 0, 4096)])  # 0.256 s: not yet
    await settle(pipeline)
    assert ears.batches == []
    pipeline.submit_audio([clip("a", 1.25, 4096, 4096, who="ada")])  # 0.512 s in all
    await settle(pipeline)
    (batch,) = ears.batches
    (heard,) = batch
    assert heard.attempt_id == "a"
    assert heard.ts == 1.25  # the end of the newest piece
    assert heard.context == {"who": "ada"}
    assert np.array_equal(heard.samples, ramp(0, 8192))  # contiguous, in order
    assert heard.duration_s == pytest.approx(8192 / AUDIO_RATE)
    assert [o.values for o in sink.got] == [{"samples": 8192}]
    stats = pipeline.stats()["ears"]
    assert (stats.runs, stats.frames, stats.drops) == (1, 1, 0)
    assert stats.audio_s == pytest.approx(8192 / AUDIO_RATE)
    await pipeline.stop()


async def test_due_attempts_share_one_batch_and_a_short_one_waits() -> None:
    ears = Ears(min_clip_s=0.25)
    pipeline = Pipeline([ears], Sink())
    ears.gate = threading.Event()
    pipeline.submit_audio([clip("warm", 0.5, 0, 4096)])  # occupies the detector
    await asyncio.to_thread(ears.started.wait, 5)
    pipeline.submit_audio(
        [clip("a", 1.0, 0, 4096), clip("b", 1.0, 0, 4096), clip("c", 1.0, 0, 512)]
    )
    ears.gate.set()
    await settle(pipeline)
    assert [[c.attempt_id for c in batch] for batch in ears.batches] == [["warm"], ["a", "b"]]
    assert "c" in pipeline._audio_lanes["ears"].pending  # 32 ms is not a clip yet
    await pipeline.stop()


async def test_a_busy_detector_hears_only_the_newest_audio_and_counts_the_rest() -> None:
    ears, listener = Ears(min_clip_s=0.1), Listener()
    pipeline = Pipeline([ears], Sink(), listener, max_audio_s=1.0)
    ears.gate = threading.Event()
    pipeline.submit_audio([clip("a", 0.0, 0, 2048)])
    await asyncio.to_thread(ears.started.wait, 5)
    # 2.5 s arrive while the first batch runs, in pieces of 0.5 s: only the last 1 s is kept.
    for i in range(5):
        pipeline.submit_audio([clip("a", 1.0 + i, 2048 + i * 8000, 8000)])
    ears.gate.set()
    await settle(pipeline)
    second = ears.batches[1][0]
    end = 2048 + 5 * 8000
    assert np.array_equal(second.samples, ramp(end - AUDIO_RATE, AUDIO_RATE))
    assert second.ts == 5.0
    # Three pieces of 8000 samples went, counted in 32 ms windows (15.6 each, so 16 each).
    assert listener.drops == [("ears", 16)] * 3
    assert pipeline.stats()["ears"].drops == 48
    assert listener.runs == [("ears", 1, False), ("ears", 1, False)]
    await pipeline.stop()


async def test_forget_drops_pending_audio_and_runs_on_the_detectors_thread() -> None:
    ears = Ears(min_clip_s=0.5)
    pipeline = Pipeline([ears], Sink())
    pipeline.submit_audio([clip("a", 1.0, 0, 4096), clip("b", 1.0, 0, 4096)])  # not due yet
    pipeline.forget("a")
    for _ in range(100):
        if ears.forgotten:
            break
        await asyncio.sleep(0.01)
    assert [a for a, _ in ears.forgotten] == ["a"]
    assert ears.forgotten[0][1].startswith("detector-ears")
    pipeline.submit_audio([clip("a", 2.0, 4096, 12288), clip("b", 2.0, 4096, 12288)])
    await settle(pipeline)
    (batch,) = ears.batches
    # a starts afresh; b's earlier audio was kept
    assert {c.attempt_id: int(c.samples.size) for c in batch} == {"a": 12288, "b": 16384}
    await pipeline.stop()


async def test_video_and_audio_detectors_run_side_by_side() -> None:
    video, ears, sink = Recorder(), Ears(min_clip_s=0.1), Sink()
    pipeline = Pipeline([video, ears], sink)
    assert pipeline.detectors == ["rec", "ears"]
    assert pipeline.audio_detectors == ["ears"]
    pipeline.submit([Frame("a", 1.0, np.zeros((4, 4, 3), dtype=np.uint8))])
    pipeline.submit_audio([clip("a", 1.0, 0, 2048)])
    await settle(pipeline)
    for _ in range(100):
        if video.batches:
            break
        await asyncio.sleep(0.01)
    assert video.batches == [[("a", 1.0)]]
    assert len(ears.batches) == 1
    assert sorted(o.detector for o in sink.got) == ["ears", "rec"]
    assert set(pipeline.stats()) == {"rec", "ears"}
    await pipeline.stop()


async def test_a_failing_audio_batch_is_counted_and_a_detector_that_cannot_load_is_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ears, listener = Ears(min_clip_s=0.1, fail=True), Listener()
    pipeline = Pipeline([ears], Sink(), listener)
    pipeline.submit_audio([clip("a", 1.0, 0, 2048)])
    await settle(pipeline)
    assert pipeline.stats()["ears"].failures == 1
    assert listener.runs == [("ears", 1, True)]
    assert "model crashed" in caplog.text
    await pipeline.stop()

    class Deaf(Ears):
        def load(self) -> None:
            raise ModuleNotFoundError("silero-vad is missing")

    pipeline = Pipeline([Deaf()], Sink())
    assert await pipeline.load() == {"ears": "ModuleNotFoundError: silero-vad is missing"}
    assert pipeline.audio_detectors == []
    pipeline.submit_audio([clip("a", 1.0, 0, 2048)])  # nobody listens; nothing breaks
    await pipeline.stop()


def test_a_detector_must_say_what_it_takes() -> None:
    both = Ears()
    both.needs = DetectorNeeds(video=True, audio=True)
    with pytest.raises(ValueError, match="video and audio"):
        Pipeline([both], Sink())
    undeclared = Ears()
    undeclared.needs = DetectorNeeds(video=False, audio=False)
    with pytest.raises(TypeError, match="detect_audio"):
        Pipeline([undeclared], Sink())
    deaf = Recorder()  # declares audio but can only look
    deaf.needs = DetectorNeeds(video=False, audio=True)
    with pytest.raises(TypeError, match="detect_audio"):
        Pipeline([deaf], Sink())
    with pytest.raises(ValueError, match="twice"):
        Pipeline([Ears(), Ears()], Sink())


async def test_nothing_is_taken_after_stop() -> None:
    ears = Ears(min_clip_s=0.1)
    pipeline = Pipeline([ears], Sink())
    await pipeline.stop()
    pipeline.submit_audio([clip("a", 1.0, 0, 4096)])
    pipeline.forget("a")
    await asyncio.sleep(0.05)
    assert ears.batches == []
    assert ears.forgotten == []


def test_tracks_are_mixed_aligned_at_their_ends_and_clipped() -> None:
    assert mix([]).size == 0
    one = ramp(0, 4)
    assert mix([one, np.zeros(0, dtype=np.int16)]) is one
    mixed = mix([np.array([1, 2, 3, 4], dtype=np.int16), np.array([10, 20], dtype=np.int16)])
    assert mixed.tolist() == [1, 2, 13, 24]
    loud = np.full(3, 30000, dtype=np.int16)
    assert mix([loud, loud]).tolist() == [32767] * 3
    assert mix([-loud, -loud]).tolist() == [-32768] * 3
    assert mix([loud, loud]).dtype == np.int16
