"""The scheduler between the sampled frames and the detectors.

Per detector it keeps the newest unanalysed frame of each attempt, and whenever the detector is
idle it takes every attempt's pending frame in ONE batched ``detect`` call on the detector's own
worker thread. Nothing queues: a frame that is replaced before the detector got to it is counted
as a drop, so a slow model analyses fewer frames instead of analysing old ones ever later. A
detector's ``min_interval_s`` is enforced per attempt on the frames' timestamps, so a model that
only needs one look a second is not fed the sampler's full rate.

Audio detectors (:mod:`core.audio`) get lanes of their own with the same thread, counters and
listener. Audio is not sampled but accumulated: each attempt's audio since the detector's
previous run is handed over as one clip once it covers the detector's ``min_interval_s``, all
due attempts in one batched ``detect_audio`` call. While the detector is busy an attempt's audio
keeps only its newest ``max_audio_s``; older audio is dropped and counted as drops in 512-sample
(32 ms) windows, so a slow model hears recent audio instead of falling ever further behind.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from core.audio import AUDIO_RATE, WINDOW_SAMPLES, AnyDetector, AudioClip, AudioDetector
from core.detectors import Detector, Frame, Observation

log = logging.getLogger(__name__)

ObservationSink = Callable[[list[Observation]], Awaitable[None]]
MAX_AUDIO_S = 2.0  # per attempt and audio detector: the most audio held while it is busy


class PipelineListener(Protocol):
    """Receives each run and drop as it happens (the proctoring plugin feeds Prometheus)."""

    def ran(self, detector: str, batch: int, seconds: float, failed: bool) -> None: ...

    def dropped(self, detector: str, count: int) -> None: ...


@dataclass
class DetectorStats:
    """Counters of one detector since the pipeline started."""

    runs: int = 0
    frames: int = 0  # audio detectors: clips
    audio_s: float = 0.0  # audio detectors: seconds of audio analysed
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


@dataclass
class _Heard:
    """One attempt's audio waiting for an audio detector: pieces in arrival order."""

    pieces: list[np.ndarray] = field(default_factory=list)
    samples: int = 0
    ts: float = 0.0
    context: Mapping[str, object] = field(default_factory=dict)

    def add(self, clip: AudioClip) -> None:
        self.pieces.append(clip.samples)
        self.samples += int(clip.samples.size)
        self.ts = clip.ts
        self.context = clip.context

    def trim(self, limit: int) -> int:
        """Keep the newest ``limit`` samples; returns how many were dropped."""
        dropped = 0
        while self.samples - self.pieces[0].size >= limit:
            first = self.pieces.pop(0)
            dropped += first.size
            self.samples -= first.size
        if self.samples > limit:
            cut = self.samples - limit
            self.pieces[0] = self.pieces[0][cut:]
            dropped += cut
            self.samples = limit
        return dropped

    def clip(self, attempt_id: str) -> AudioClip:
        samples = self.pieces[0] if len(self.pieces) == 1 else np.concatenate(self.pieces)
        return AudioClip(attempt_id, self.ts, samples, self.context)


@dataclass
class _AudioLane:
    """One audio detector's state: its thread, each attempt's pending audio, its counters."""

    detector: AudioDetector
    executor: ThreadPoolExecutor
    min_samples: int
    max_samples: int
    stats: DetectorStats = field(default_factory=DetectorStats)
    pending: dict[str, _Heard] = field(default_factory=dict)
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
    """Batches frames, and audio clips, across attempts per detector; see the module docstring
    for the policy."""

    def __init__(
        self,
        detectors: Iterable[AnyDetector],
        sink: ObservationSink,
        listener: PipelineListener | None = None,
        max_audio_s: float = MAX_AUDIO_S,
    ) -> None:
        self.sink = sink
        self.listener = listener
        self.failed: dict[str, str] = {}  # detector name -> why it could not load
        self._lanes: dict[str, _Lane] = {}
        self._audio_lanes: dict[str, _AudioLane] = {}
        self._stopped = False
        for detector in detectors:
            name = detector.name
            if name in self._lanes or name in self._audio_lanes:
                raise ValueError(f"detector {name!r} is registered twice")
            executor = ThreadPoolExecutor(1, thread_name_prefix=f"detector-{name}")
            if isinstance(detector, AudioDetector) and detector.needs.audio:
                if detector.needs.video:
                    raise ValueError(f"detector {name!r} wants video and audio: make two")
                wanted = max(1, round(detector.needs.min_interval_s * AUDIO_RATE))
                held = max(wanted, round(max_audio_s * AUDIO_RATE))
                self._audio_lanes[name] = _AudioLane(detector, executor, wanted, held)
            elif isinstance(detector, Detector) and not detector.needs.audio:
                self._lanes[name] = _Lane(detector, executor)
            else:
                executor.shutdown(wait=False)
                raise TypeError(
                    f"detector {name!r} needs detect() for video, or needs.audio and "
                    "detect_audio() and forget() for audio"
                )

    @property
    def detectors(self) -> list[str]:
        """Every detector that runs, video and audio."""
        return [*self._lanes, *self._audio_lanes]

    @property
    def audio_detectors(self) -> list[str]:
        return list(self._audio_lanes)

    def stats(self) -> dict[str, DetectorStats]:
        lanes: list[_Lane | _AudioLane] = [*self._lanes.values(), *self._audio_lanes.values()]
        return {lane.detector.name: lane.stats for lane in lanes}

    async def load(self) -> dict[str, str]:
        """Load every detector on its own thread; one that fails is removed, the others run.

        Returns (and keeps in ``failed``) the reason of each failure, for the operator.
        """
        loop = asyncio.get_running_loop()
        lanes: list[_Lane | _AudioLane] = [*self._lanes.values(), *self._audio_lanes.values()]
        results = await asyncio.gather(
            *(loop.run_in_executor(lane.executor, lane.detector.load) for lane in lanes),
            return_exceptions=True,
        )
        for lane, result in zip(lanes, results, strict=True):
            if isinstance(result, BaseException):
                name = lane.detector.name
                self.failed[name] = f"{type(result).__name__}: {result}"
                log.error("detector %s failed to load: %s", name, self.failed[name])
                self._lanes.pop(name, None)
                self._audio_lanes.pop(name, None)
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

    def submit_audio(self, clips: Iterable[AudioClip]) -> None:
        """Add newly heard audio of some attempts; due attempts go to every idle audio detector.

        Clips of one attempt must come in time order; each is appended to what that attempt
        already has pending for each audio detector.
        """
        if self._stopped:
            return
        heard = [clip for clip in clips if clip.samples.size]
        for lane in self._audio_lanes.values():
            windows = 0
            for clip in heard:
                pending = lane.pending.get(clip.attempt_id)
                if pending is None:
                    pending = lane.pending[clip.attempt_id] = _Heard()
                pending.add(clip)
                dropped = pending.trim(lane.max_samples)
                windows += -(-dropped // WINDOW_SAMPLES)  # partly dropped windows count
            if windows:
                lane.stats.drops += windows
                if self.listener is not None:
                    self.listener.dropped(lane.detector.name, windows)
            self._kick_audio(lane)

    def forget(self, attempt_id: str) -> None:
        """Drop what is held for an attempt that went away; audio detectors forget its state."""
        for lane in self._lanes.values():
            lane.pending.pop(attempt_id, None)
            lane.last_ts.pop(attempt_id, None)
        for audio in self._audio_lanes.values():
            audio.pending.pop(attempt_id, None)
            if not self._stopped:  # on the detector's thread: after its batch, never during one
                audio.executor.submit(_forget, audio.detector, attempt_id)

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
        await self._account(
            name, lane.stats, len(frames), seconds=seconds, failed=failed, observations=observations
        )
        lane.task = None
        self._kick(lane)  # frames that arrived while this batch ran

    async def _account(
        self,
        name: str,
        stats: DetectorStats,
        batch: int,
        *,
        seconds: float,
        failed: bool,
        observations: list[Observation],
    ) -> None:
        """Counters, the listener and the sink after one batch of either kind."""
        stats.runs += 1
        stats.frames += batch
        stats.last_batch = batch
        stats.max_batch = max(stats.max_batch, batch)
        stats.last_latency_s = seconds
        stats.total_latency_s += seconds
        if self.listener is not None:
            self.listener.ran(name, batch, seconds, failed)
        if observations:
            try:
                await self.sink(observations)
            except Exception:
                log.exception("could not deliver %d observations of %s", len(observations), name)

    def _kick_audio(self, lane: _AudioLane) -> None:
        if self._stopped or (lane.task is not None and not lane.task.done()):
            return
        due = [a for a, heard in lane.pending.items() if heard.samples >= lane.min_samples]
        if not due:
            return
        clips = [lane.pending.pop(attempt_id).clip(attempt_id) for attempt_id in due]
        lane.task = asyncio.get_running_loop().create_task(self._run_audio(lane, clips))

    async def _run_audio(self, lane: _AudioLane, clips: list[AudioClip]) -> None:
        name = lane.detector.name
        started = time.perf_counter()
        failed = False
        observations: list[Observation] = []
        try:
            loop = asyncio.get_running_loop()
            observations = await loop.run_in_executor(
                lane.executor, lane.detector.detect_audio, clips
            )
        except Exception:  # one bad batch must not stop the detector
            failed = True
            lane.stats.failures += 1
            log.exception("detector %s failed on a batch of %d clips", name, len(clips))
        seconds = time.perf_counter() - started
        lane.stats.audio_s += sum(clip.duration_s for clip in clips)
        await self._account(
            name, lane.stats, len(clips), seconds=seconds, failed=failed, observations=observations
        )
        lane.task = None
        self._kick_audio(lane)  # audio that became due while this batch ran

    async def stop(self) -> None:
        """Finish the batches in flight (their observations are delivered), then stop."""
        self._stopped = True
        lanes: list[_Lane | _AudioLane] = [*self._lanes.values(), *self._audio_lanes.values()]
        tasks = [lane.task for lane in lanes if lane.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        loop = asyncio.get_running_loop()
        for lane in lanes:
            lane.pending.clear()
            # Native models (mediapipe graphs, sessions) live on the detector's own thread and
            # are not freed by the thread ending: a detector with ``close`` releases them there.
            await loop.run_in_executor(lane.executor, _close, lane.detector)
            lane.executor.shutdown(wait=False)


def _close(detector: object) -> None:
    close = getattr(detector, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:
        log.exception("detector %s could not release its model", getattr(detector, "name", "?"))


def _forget(detector: AudioDetector, attempt_id: str) -> None:
    """Runs on the detector's thread; a failure is logged, never raised into nobody's hands."""
    try:
        detector.forget(attempt_id)
    except Exception:
        log.exception("detector %s could not forget attempt %s", detector.name, attempt_id)
