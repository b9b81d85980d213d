"""The scheduler between the sampled frames and the detectors.

Per detector it keeps the newest unanalysed frame of each attempt, and whenever the detector is
idle it takes every attempt's pending frame in ONE batched ``detect`` call on the detector's own
worker thread. Nothing queues: a frame that is replaced before the detector got to it is counted
as a drop, so a slow model analyses fewer frames instead of analysing old ones ever later. A
detector's ``min_interval_s`` is enforced per attempt on the frames' timestamps, so a model that
only needs one look a second is not fed the sampler's full rate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from core.detectors import Detector, Frame, Observation

log = logging.getLogger(__name__)

ObservationSink = Callable[[list[Observation]], Awaitable[None]]


class PipelineListener(Protocol):
    """Receives each run and drop as it happens (the proctoring plugin feeds Prometheus)."""

    def ran(self, detector: str, batch: int, seconds: float, failed: bool) -> None: ...

    def dropped(self, detector: str, count: int) -> None: ...


@dataclass
class DetectorStats:
    """Counters of one detector since the pipeline started."""

    runs: int = 0
    frames: int = 0
    drops: int = 0
    failures: int = 0
    max_batch: int = 0
    last_batch: int = 0
    last_latency_s: float = 0.0
    total_latency_s: float = 0.0

    @property
    def mean_batch(self) -> float:
        return self.frames / self.runs if self.runs else 0.0

    @property
    def mean_latency_s(self) -> float:
        return self.total_latency_s / self.runs if self.runs else 0.0


@dataclass
class _Lane:
    """One detector's state: its thread, its pending frames and its counters."""

    detector: Detector
    executor: ThreadPoolExecutor
    stats: DetectorStats = field(default_factory=DetectorStats)
    pending: dict[str, Frame] = field(default_factory=dict)
    last_ts: dict[str, float] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


def scaled(frame: Frame, size: tuple[int, int]) -> Frame:
    """``frame`` resized to exactly ``size`` (width, height).

    The aspect ratio is not kept: a detector that declares an input size gets what its model
    takes, and coordinates it reports relative to the image (0..1) stay valid for the original
    frame. A frame already of that size is passed through without a copy.
    """
    width, height = size
    if frame.image.shape[1] == width and frame.image.shape[0] == height:
        return frame
    import cv2  # noqa: PLC0415 (only detectors that declare a size need it)

    image = cv2.resize(frame.image, (width, height), interpolation=cv2.INTER_AREA)
    return Frame(frame.attempt_id, frame.ts, image, frame.context)


def _detect(detector: Detector, frames: list[Frame]) -> list[Observation]:
    """Runs on the detector's thread: scaling there keeps that cost off the event loop too."""
    size = detector.needs.input_size
    batch = frames if size is None else [scaled(frame, size) for frame in frames]
    return detector.detect(batch)


class Pipeline:
    """Batches frames across attempts per detector; see the module docstring for the policy."""

    def __init__(
        self,
        detectors: Iterable[Detector],
        sink: ObservationSink,
        listener: PipelineListener | None = None,
    ) -> None:
        self.sink = sink
        self.listener = listener
        self.failed: dict[str, str] = {}  # detector name -> why it could not load
        self._lanes: dict[str, _Lane] = {}
        self._stopped = False
        for detector in detectors:
            if detector.name in self._lanes:
                raise ValueError(f"detector {detector.name!r} is registered twice")
            executor = ThreadPoolExecutor(1, thread_name_prefix=f"detector-{detector.name}")
            self._lanes[detector.name] = _Lane(detector, executor)

    @property
    def detectors(self) -> list[str]:
        return list(self._lanes)

    def stats(self) -> dict[str, DetectorStats]:
        return {name: lane.stats for name, lane in self._lanes.items()}

    async def load(self) -> dict[str, str]:
        """Load every detector on its own thread; one that fails is removed, the others run.

        Returns (and keeps in ``failed``) the reason of each failure, for the operator.
        """
        loop = asyncio.get_running_loop()
        lanes = list(self._lanes.values())
        results = await asyncio.gather(
            *(loop.run_in_executor(lane.executor, lane.detector.load) for lane in lanes),
            return_exceptions=True,
        )
        for lane, result in zip(lanes, results, strict=True):
            if isinstance(result, BaseException):
                name = lane.detector.name
                self.failed[name] = f"{type(result).__name__}: {result}"
                log.error("detector %s failed to load: %s", name, self.failed[name])
                del self._lanes[name]
                lane.executor.shutdown(wait=False)
        return dict(self.failed)

    def submit(self, frames: Mapping[str, Frame] | Iterable[Frame]) -> None:
        """Offer the newest frame of some attempts to every detector that wants it now."""
        if self._stopped:
            return
        batch = list(frames.values()) if isinstance(frames, Mapping) else list(frames)
        for lane in self._lanes.values():
            interval = lane.detector.needs.min_interval_s
            replaced = 0
            for frame in batch:
                last = lane.last_ts.get(frame.attempt_id)
                if last is not None and frame.ts - last < interval:
                    continue  # analysed recently enough
                if frame.attempt_id in lane.pending:
                    replaced += 1
                lane.pending[frame.attempt_id] = frame
            if replaced:
                lane.stats.drops += replaced
                if self.listener is not None:
                    self.listener.dropped(lane.detector.name, replaced)
            self._kick(lane)

    def forget(self, attempt_id: str) -> None:
        """Drop what is held for an attempt that went away."""
        for lane in self._lanes.values():
            lane.pending.pop(attempt_id, None)
            lane.last_ts.pop(attempt_id, None)

    def _kick(self, lane: _Lane) -> None:
        if self._stopped or not lane.pending or (lane.task is not None and not lane.task.done()):
            return
        frames = list(lane.pending.values())
        lane.pending.clear()
        for frame in frames:
            lane.last_ts[frame.attempt_id] = frame.ts
        lane.task = asyncio.get_running_loop().create_task(self._run(lane, frames))

    async def _run(self, lane: _Lane, frames: list[Frame]) -> None:
        name = lane.detector.name
        started = time.perf_counter()
        failed = False
        observations: list[Observation] = []
        try:
            loop = asyncio.get_running_loop()
            observations = await loop.run_in_executor(lane.executor, _detect, lane.detector, frames)
        except Exception:  # one bad batch must not stop the detector
            failed = True
            lane.stats.failures += 1
            log.exception("detector %s failed on a batch of %d frames", name, len(frames))
        seconds = time.perf_counter() - started
        stats = lane.stats
        stats.runs += 1
        stats.frames += len(frames)
        stats.last_batch = len(frames)
        stats.max_batch = max(stats.max_batch, len(frames))
        stats.last_latency_s = seconds
        stats.total_latency_s += seconds
        if self.listener is not None:
            self.listener.ran(name, len(frames), seconds, failed)
        if observations:
            try:
                await self.sink(observations)
            except Exception:
                log.exception("could not deliver %d observations of %s", len(observations), name)
        lane.task = None
        self._kick(lane)  # frames that arrived while this batch ran

    async def stop(self) -> None:
        """Finish the batches in flight (their observations are delivered), then stop."""
        self._stopped = True
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for lane in self._lanes.values():
            lane.pending.clear()
            lane.executor.shutdown(wait=False)
