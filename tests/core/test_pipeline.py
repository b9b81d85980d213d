"""The scheduler: batches across attempts, per-attempt intervals, newest-only when busy,
and failures that are counted rather than fatal."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from core.detectors import Detector, DetectorNeeds, Frame, Observation
from core.pipeline import Pipeline, scaled
from core.services import Services
from tests.fixtures.sample_plugin.plugin import BrightnessDetector, invigilator_register_detectors

IMAGE = np.full((4, 4, 3), 10, dtype=np.uint8)


class Recorder:
    """A detector that records each batch; ``gate`` (when set) holds a batch until released."""

    def __init__(self, interval: float = 0.0, fail: bool = False) -> None:
        self.name = "rec"
        self.needs = DetectorNeeds(min_interval_s=interval)
        self.batches: list[list[tuple[str, float]]] = []
        self.fail = fail
        self.gate: threading.Event | None = None
        self.started = threading.Event()

    def load(self) -> None:
        pass

    def detect(self, frames: Sequence[Frame]) -> list[Observation]:
        self.started.set()
        if self.gate is not None:
            self.gate.wait(5)
        self.batches.append([(f.attempt_id, f.ts) for f in frames])
        if self.fail:
            raise RuntimeError("model crashed")
        return [Observation(attempt_id=f.attempt_id, ts=f.ts, detector=self.name) for f in frames]


def frames(ts: float, *attempts: str) -> list[Frame]:
    return [Frame(a, ts, IMAGE) for a in attempts]


class Sink:
    def __init__(self) -> None:
        self.got: list[Observation] = []

    async def __call__(self, observations: list[Observation]) -> None:
        self.got.extend(observations)


async def settle(pipeline: Pipeline) -> None:
    for _ in range(200):
        if all(lane.task is None and not lane.pending for lane in pipeline._lanes.values()):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("pipeline did not settle")


async def test_three_due_attempts_make_one_batch() -> None:
    detector, sink = Recorder(), Sink()
    pipeline = Pipeline([detector], sink)
    pipeline.submit(frames(1.0, "a", "b", "c"))
    await settle(pipeline)
    assert detector.batches == [[("a", 1.0), ("b", 1.0), ("c", 1.0)]]
    assert [o.attempt_id for o in sink.got] == ["a", "b", "c"]
    stats = pipeline.stats()["rec"]
    assert (stats.runs, stats.frames, stats.max_batch, stats.drops) == (1, 3, 3, 0)
    await pipeline.stop()


async def test_interval_is_respected_per_attempt() -> None:
    detector = Recorder(interval=0.5)
    pipeline = Pipeline([detector], Sink())
    for ts in (0.0, 0.2, 0.4, 0.6, 0.7):
        pipeline.submit(frames(ts, "a"))
        await settle(pipeline)
    assert detector.batches == [[("a", 0.0)], [("a", 0.6)]]
    await pipeline.stop()


async def test_busy_detector_takes_only_the_newest_frames() -> None:
    detector = Recorder()
    detector.gate = threading.Event()
    pipeline = Pipeline([detector], Sink())
    pipeline.submit(frames(1.0, "a"))
    await asyncio.to_thread(detector.started.wait, 5)
    for ts in (2.0, 3.0, 4.0):  # arrive while the first batch is still running
        pipeline.submit(frames(ts, "a", "b"))
    detector.gate.set()
    await settle(pipeline)
    assert detector.batches == [[("a", 1.0)], [("a", 4.0), ("b", 4.0)]]
    assert pipeline.stats()["rec"].drops == 4  # a and b at 2.0 and 3.0
    await pipeline.stop()


async def test_a_failing_detect_is_counted_and_the_scheduler_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    detector, sink = Recorder(fail=True), Sink()
    pipeline = Pipeline([detector], sink)
    pipeline.submit(frames(1.0, "a"))
    await settle(pipeline)
    detector.fail = False
    pipeline.submit(frames(2.0, "a"))
    await settle(pipeline)
    stats = pipeline.stats()["rec"]
    assert (stats.runs, stats.failures) == (2, 1)
    assert [o.ts for o in sink.got] == [2.0]
    assert "model crashed" in caplog.text
    await pipeline.stop()


class Unloadable(Recorder):
    def load(self) -> None:
        raise FileNotFoundError("weights.onnx")


async def test_a_detector_that_cannot_load_is_reported_and_the_others_run() -> None:
    broken, fine = Unloadable(), BrightnessDetector()
    broken.name = "broken"
    sink = Sink()
    pipeline = Pipeline([broken, fine], sink)
    assert await pipeline.load() == {"broken": "FileNotFoundError: weights.onnx"}
    assert pipeline.detectors == ["brightness"]
    pipeline.submit(frames(1.0, "a"))
    await settle(pipeline)
    assert sink.got[0].values == {"mean": 10.0}
    await pipeline.stop()


def test_the_sample_plugin_registers_a_detector() -> None:
    services: Any = Services.__new__(Services)
    built = list(invigilator_register_detectors(services))
    assert isinstance(built[0], Detector)
    assert built[0].name == "brightness"


async def test_stop_waits_for_the_batch_in_flight_and_ignores_later_frames() -> None:
    detector, sink = Recorder(), Sink()
    detector.gate = threading.Event()
    pipeline = Pipeline([detector], sink)
    pipeline.submit(frames(1.0, "a"))
    await asyncio.to_thread(detector.started.wait, 5)
    stopping = asyncio.create_task(pipeline.stop())
    await asyncio.sleep(0.05)
    pipeline.submit(frames(2.0, "a"))
    detector.gate.set()
    await stopping
    assert [o.ts for o in sink.got] == [1.0]


class Shapes:
    """Records the image shapes it is given; declares an input size when asked to."""

    def __init__(self, name: str, size: tuple[int, int] | None) -> None:
        self.name = name
        self.needs = DetectorNeeds(input_size=size)
        self.shapes: list[tuple[int, ...]] = []

    def load(self) -> None:
        pass

    def detect(self, frames: Sequence[Frame]) -> list[Observation]:
        self.shapes.extend(f.image.shape for f in frames)
        return []


async def test_a_declared_input_size_is_what_the_detector_gets_and_others_see_the_original() -> (
    None
):
    small, native = Shapes("small", (32, 24)), Shapes("native", None)
    pipeline = Pipeline([small, native], Sink())
    gradient = np.tile(np.arange(64, dtype=np.uint8)[None, :, None], (48, 1, 3))
    original = Frame("a", 1.0, gradient)
    pipeline.submit([original])
    await settle(pipeline)
    assert small.shapes == [(24, 32, 3)]
    assert native.shapes == [(48, 64, 3)]
    assert original.image.shape == (48, 64, 3)  # the shared frame was not changed
    await pipeline.stop()


def test_scaling_keeps_relative_positions_and_skips_frames_already_the_right_size() -> None:
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    image[:, 100:] = 255  # right half white
    frame = Frame("a", 1.0, image)
    small = scaled(frame, (20, 10))
    assert small.image.shape == (10, 20, 3)
    assert small.image[:, :9].max() == 0
    assert small.image[:, 11:].min() == 255
    assert scaled(small, (20, 10)) is small
