"""Run the server's detectors and rules over a labelled set and score the violations.

Detectors are built exactly as ``serve`` builds them (the same plugins.toml, the same
``invigilator_register_detectors`` hooks through :func:`webapp.lifecycle.collect_detectors`,
frames scaled to a declared ``input_size`` as :mod:`core.pipeline` does) and each detector sees
a frame only when its ``min_interval_s`` has passed for the clip, as in the pipeline. Backends
are not opened: detector hooks read configuration only, and an evaluation must not touch the
site's database. Each clip is one attempt with the default proctoring policy at the clip's
``fps``; its observations feed :class:`core.rules.AttemptRules` in time order and the rules are
closed at the clip's end, so every violation has a start and an end.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from core.audio import AUDIO_RATE, AnyDetector, AudioClip, AudioDetector
from core.detectors import Detector, Frame, Observation
from core.pipeline import scaled
from core.policy import ProctoringPolicy
from core.rules import AttemptRules
from plugins.evaluation.manifest import Clip, Manifest
from plugins.evaluation.metrics import KindScore, score

EPOCH = 1_700_000_000.0  # clip second 0; any fixed instant works, the rules only see differences
Progress = Callable[[str], None]


@dataclass
class Latency:
    samples_ms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, float | int]:
        values = np.asarray(self.samples_ms or [0.0])
        return {
            "calls": len(self.samples_ms),
            "mean_ms": round(float(values.mean()), 2),
            "p95_ms": round(float(np.percentile(values, 95)), 2),
        }


def build_detectors(only: Sequence[str] = ()) -> tuple[list[AnyDetector], dict[str, str]]:
    """The detectors ``serve`` would run (``only`` narrows them by name), loaded; and failures."""
    from core.services import Services  # noqa: PLC0415
    from core.settings import load_settings  # noqa: PLC0415 (the CLI's composition root)
    from webapp.app import load_plugin_manager  # noqa: PLC0415
    from webapp.lifecycle import collect_detectors  # noqa: PLC0415

    settings = load_settings()
    pm = load_plugin_manager(settings)
    unopened = cast("Any", None)  # see the module docstring: hooks read configuration only
    services = Services(
        settings=settings,
        db=unopened,
        events=unopened,
        blobs=unopened,
        cache=unopened,
        bus=unopened,
        jobs=unopened,
        sections=dict(pm.sections),
    )
    collect_detectors(pm, services)
    failed = dict(services.detector_failures)
    chosen = [d for d in services.detectors if not only or d.name in only]
    for name in only:
        if name not in {d.name for d in services.detectors} and name not in failed:
            failed[name] = "not enabled or not installed"
    loaded: list[AnyDetector] = []
    for detector in chosen:
        try:
            detector.load()
        except Exception as error:  # a detector that cannot load is reported, like serve does
            failed[detector.name] = f"{type(error).__name__}: {error}"
            continue
        loaded.append(detector)
    return loaded, failed


def _read_image(path: Path) -> np.ndarray:
    import cv2  # noqa: PLC0415

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path.name}: not an image")
    return np.asarray(image)


def clip_frames(folder: Path, clip: Clip) -> list[tuple[float, np.ndarray]]:
    """(clip second, BGR image) at ``clip.fps``."""
    step = 1.0 / clip.fps
    if clip.frames:
        out: list[tuple[float, np.ndarray]] = []
        start = 0.0
        for still in clip.frames:
            image = _read_image(folder / still.image)
            count = max(1, round(still.seconds * clip.fps))
            out.extend((start + i * step, image) for i in range(count))
            start += still.seconds
        return out
    if clip.video is None:
        return []
    import cv2  # noqa: PLC0415

    capture = cv2.VideoCapture(str(folder / clip.video))
    out, wanted, limit = [], 0.0, clip.video_seconds or float("inf")
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                break
            at = float(capture.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
            if at + 1e-6 >= wanted and wanted < limit:
                out.append((wanted, np.asarray(image)))
                wanted += step
    finally:
        capture.release()
    return out


def clip_audio(folder: Path, clip: Clip) -> np.ndarray | None:
    """The clip's audio as 16 kHz mono int16 (linear resampling is enough for detectors)."""
    if clip.audio is None:
        return None
    with wave.open(str(folder / clip.audio), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{clip.audio}: only 16-bit PCM WAV is read")
        rate, channels = wav.getframerate(), wav.getnchannels()
        raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    samples = raw.reshape(-1, channels).mean(axis=1)
    if rate != AUDIO_RATE:
        count = round(samples.size * AUDIO_RATE / rate)
        samples = np.interp(np.arange(count) * rate / AUDIO_RATE, np.arange(samples.size), samples)
    return np.asarray(np.clip(np.round(samples), -32768, 32767).astype(np.int16))


def _duration(
    frames: list[tuple[float, np.ndarray]], audio: np.ndarray | None, clip: Clip
) -> float:
    ends = [sum(s.seconds for s in clip.frames)]
    if frames:
        ends.append(frames[-1][0] + 1.0 / clip.fps)
    if audio is not None:
        ends.append(audio.size / AUDIO_RATE)
    return max(ends)


def observe_clip(
    folder: Path, clip: Clip, detectors: Iterable[AnyDetector], latency: dict[str, Latency]
) -> tuple[list[Observation], float]:
    """Every observation the detectors make on one clip (attempt id = clip name), and its length."""
    frames = clip_frames(folder, clip)
    audio = clip_audio(folder, clip)
    observations: list[Observation] = []
    for detector in detectors:
        spent = latency.setdefault(detector.name, Latency())
        if isinstance(detector, AudioDetector) and detector.needs.audio:
            if audio is None:
                continue
            chunk = max(1, round(detector.needs.min_interval_s * AUDIO_RATE))
            for end in range(chunk, audio.size + 1, chunk):
                piece = AudioClip(clip.name, EPOCH + end / AUDIO_RATE, audio[end - chunk : end])
                began = time.perf_counter()
                observations.extend(detector.detect_audio([piece]))
                spent.samples_ms.append((time.perf_counter() - began) * 1000)
            detector.forget(clip.name)
        elif isinstance(detector, Detector):
            last: float | None = None
            for at, image in frames:
                if last is not None and at - last < detector.needs.min_interval_s - 1e-6:
                    continue  # the pipeline would not hand it this frame either
                last = at
                frame = Frame(clip.name, EPOCH + at, image)
                size = detector.needs.input_size
                began = time.perf_counter()
                batch = [frame if size is None else scaled(frame, size)]
                observations.extend(detector.detect(batch))
                spent.samples_ms.append((time.perf_counter() - began) * 1000)
    return observations, _duration(frames, audio, clip)


def violations_of(
    clip: Clip, observations: list[Observation], length: float
) -> list[dict[str, Any]]:
    """Feed the default rules in time order; every violation as (kind, start, end) clip seconds."""
    rules = AttemptRules(
        clip.name, ProctoringPolicy(enabled=True, analysis_fps=clip.fps).rules_for()
    )
    changes = []
    for seen in sorted(observations, key=lambda o: o.ts):
        changes += rules.feed(f"observation.{seen.detector}", seen.ts, seen.values)
        changes += rules.tick(seen.ts)
    changes += rules.close(EPOCH + length)
    finished: dict[str, Any] = {}
    for change in changes:  # the last snapshot of each violation is its final state
        finished[change.violation.id] = change.violation
    return [
        {
            "kind": v.kind,
            "start": round(v.started_at - EPOCH, 2),
            "end": round((v.ended_at if v.ended_at is not None else EPOCH + length) - EPOCH, 2),
        }
        for v in sorted(finished.values(), key=lambda v: (v.started_at, v.kind))
    ]


def evaluate(
    folder: Path,
    manifest: Manifest,
    detectors: list[AnyDetector],
    failed: dict[str, str],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The report ``invigilator eval`` prints (``--json`` prints exactly this)."""
    running = {d.name for d in detectors}
    owner = {r.kind: r.detector for r in ProctoringPolicy(enabled=True).resolved()}
    labelled = {label.kind for clip in manifest.clips for label in clip.labels}
    scored = sorted(kind for kind in labelled if owner.get(kind) in running)
    not_run = sorted(labelled - set(scored))
    latency: dict[str, Latency] = {}
    totals = {kind: KindScore() for kind in scored}
    unscored: dict[str, int] = {}
    clips: list[dict[str, Any]] = []
    for clip in manifest.clips:
        if progress is not None:
            progress(clip.name)
        observations, length = observe_clip(folder, clip, detectors, latency)
        predicted = violations_of(clip, observations, length)
        for kind in scored:
            totals[kind].add(
                score(
                    [(lb.start, lb.end) for lb in clip.labels if lb.kind == kind],
                    [(v["start"], v["end"]) for v in predicted if v["kind"] == kind],
                    manifest.tolerance_s,
                )
            )
        for v in predicted:
            if v["kind"] not in totals:
                unscored[v["kind"]] = unscored.get(v["kind"], 0) + 1
        clips.append(
            {
                "name": clip.name,
                "seconds": round(length, 2),
                "labels": [lb.model_dump() for lb in clip.labels],
                "violations": predicted,
            }
        )
    return {
        "tolerance_s": manifest.tolerance_s,
        "detectors": {name: latency.get(name, Latency()).as_dict() for name in sorted(running)},
        "failed": failed,
        "violations": {kind: totals[kind].as_dict() for kind in scored},
        "labelled_but_not_run": not_run,
        "unscored_violations": dict(sorted(unscored.items())),
        "clips": clips,
    }
