"""Live analysis: sampled frames of every connected attempt through the detector pipeline,
observations into the event log, and the pipeline's counters into Prometheus.

The loop ticks at twice the analysis rate and lets :class:`media.sampler.FrameSampler` decide
what is due, so timer jitter never halves the effective rate. Observations are written as
``observation.<detector>`` events: the rules that turn them into violations come later and read
the same log, and a proctor can already see what the models saw.

Audio is not sampled: each attempt's taps are drained a few times a second and what they held
is submitted as one clip (see :mod:`core.audio`), so audio detectors hear everything said.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Histogram

from core.audio import AudioClip, mix
from core.detectors import Frame, Observation
from core.events import Event
from core.pipeline import Pipeline
from core.services import Services
from media.peer import PeerRegistry
from media.sampler import FrameSampler
from plugins.proctoring.live import CHECK_PREFIX, LiveProctoring

log = logging.getLogger(__name__)

__all__ = ["CHECK_PREFIX", "Analysis", "PipelineMetrics", "observation_event"]

LIVE_TICK_S = 1.0  # rules see time pass, stream state and tiles are refreshed this often
AUDIO_DRAIN_S = 0.25  # taps hold ~2 s, so draining this often loses nothing and costs little


_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class PipelineMetrics:
    """Prometheus collectors for the pipeline, registered on the app's own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram(
            "detector_batch_seconds",
            "Time one batched detect call took, by detector.",
            ("detector",),
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch = Histogram(
            "detector_batch_frames",
            "Frames (audio detectors: clips) in one batched detect call, by detector.",
            ("detector",),
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.drops = Counter(
            "detector_frames_dropped_total",
            "Frames replaced by a newer one before a busy detector could take them "
            "(audio detectors: 32 ms windows of audio dropped).",
            ("detector",),
            registry=registry,
        )
        self.failures = Counter(
            "detector_batch_failures_total",
            "Batched detect calls that raised.",
            ("detector",),
            registry=registry,
        )

    def ran(self, detector: str, batch: int, seconds: float, failed: bool) -> None:
        self.latency.labels(detector).observe(seconds)
        self.batch.labels(detector).observe(batch)
        if failed:
            self.failures.labels(detector).inc()

    def dropped(self, detector: str, count: int) -> None:
        self.drops.labels(detector).inc(count)


def observation_event(observation: Observation) -> Event:
    return Event(
        kind=f"observation.{observation.detector}",
        ts=datetime.fromtimestamp(observation.ts, UTC),
        attempt_id=observation.attempt_id,
        source=observation.detector,
        data={**observation.values, "confidence": observation.confidence},
    )


class Analysis:
    """The sampler → pipeline → event log loop of one app."""

    def __init__(self, services: Services, registry: PeerRegistry, fps: float) -> None:
        self.services = services
        self.registry = registry
        self.sampler = FrameSampler(registry, fps=fps)
        listener = PipelineMetrics(services.metrics) if services.metrics is not None else None
        self.pipeline = Pipeline(services.detectors, self._store, listener)
        # Sampling is checked often enough for the fastest per-exam rate (at most 10 fps); a
        # check that finds nothing due costs a dictionary lookup per attempt.
        self.period = min(1.0 / fps / 2, 0.05)
        self.task: asyncio.Task[None] | None = None
        self.live = LiveProctoring(services, registry, self.sampler)
        self._last_live_tick = 0.0
        self._last_audio = 0.0
        self._attempts: set[str] = set()
        self._latest: dict[str, dict[str, Observation]] = {}

    def latest(self, peer_id: str, detector: str) -> Observation | None:
        """The newest observation of ``detector`` for a connected peer (attempt or check)."""
        return self._latest.get(peer_id, {}).get(detector)

    async def start(self) -> None:
        """Load the models (failures are logged and left out), then start sampling."""
        failed = await self.pipeline.load()
        self.services.detector_failures.update(failed)
        log.info(
            "analysis running",
            extra={"detectors": self.pipeline.detectors, "failed": sorted(failed)},
        )
        # The loop runs without detectors too: snapshots, telemetry rules and the wall need it.
        self.task = asyncio.get_running_loop().create_task(self._loop())

    async def _store(self, observations: list[Observation]) -> None:
        for observation in observations:
            if observation.attempt_id in self.registry.peers:
                self._latest.setdefault(observation.attempt_id, {})[observation.detector] = (
                    observation
                )
        stored = [o for o in observations if not o.attempt_id.startswith(CHECK_PREFIX)]
        if stored:
            await self.services.events.append([observation_event(o) for o in stored])
            await self.live.observe(stored)

    def tick(self) -> None:
        """Sample every due attempt once and offer the frames to the pipeline."""
        now = time.time()
        sampled = self.sampler.sample_all()
        for gone in self._attempts - set(self.registry.peers):
            self.pipeline.forget(gone)
            self._latest.pop(gone, None)
        self._attempts = set(self.registry.peers)
        if sampled:
            self.live.frames(sampled, now)
            if self.pipeline.detectors:
                self.pipeline.submit(
                    [Frame(a, now, image, self.live.context_of(a)) for a, image in sampled.items()]
                )
        if self.pipeline.audio_detectors and now - self._last_audio >= AUDIO_DRAIN_S:
            self._last_audio = now
            self.pipeline.submit_audio(self._heard(now))

    def _heard(self, now: float) -> list[AudioClip]:
        """What each attempt's microphone (and any other audio track, mixed) sent since the
        last drain, as one clip ending now. System-check peers are left out: the check page
        reads its level from the tap's ring itself, and draining would empty it."""
        clips: list[AudioClip] = []
        for attempt_id, peer in list(self.registry.peers.items()):
            if attempt_id.startswith(CHECK_PREFIX) or not peer.audio:
                continue
            tracks = [np.concatenate(chunks) for tap in peer.audio if (chunks := tap.drain())]
            samples = mix(tracks)
            if samples.size:
                clips.append(AudioClip(attempt_id, now, samples, self.live.context_of(attempt_id)))
        return clips

    async def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # a bad frame must not end live analysis for everyone
                log.exception("analysis tick failed")
            now = time.time()
            if now - self._last_live_tick >= LIVE_TICK_S:
                self._last_live_tick = now
                try:
                    await self.live.tick(now)
                except Exception:
                    log.exception("live proctoring tick failed")
            await asyncio.sleep(self.period)

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.pipeline.stop()
        await self.live.stop()
