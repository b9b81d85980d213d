"""``invigilator plugins try NAME --clip FILE``: one detector over a recorded clip, offline.

A detector author wants to see what the detector says about a clip, and which violations its
rules would raise, without starting a server, opening a browser and sitting in front of a
camera. So this command builds the named detector exactly as the server does (``plugins.toml``
section, ``invigilator_register_detectors``, ``load()``), decodes the clip with PyAV the way the
media layer would deliver it (frames sampled at ``--fps`` as BGR, scaled to ``input_size`` when
the detector asks; audio resampled to 16 kHz mono int16 and cut into clips of
``min_interval_s``), calls the detector one attempt at a time, and runs the rules that read
``observation.<name>`` through :class:`core.rules.AttemptRules` under the default policy.

Time is the clip's own: observations are stamped in seconds from its start. No backend is
opened, so a registration hook that reaches for the database instead of its section fails here
with a clear reason, and ``Frame.context`` is empty (no candidate, no attempt context).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, cast

import click
import numpy as np

from core.audio import AUDIO_RATE, WINDOW_SAMPLES, AnyDetector, AudioClip, AudioDetector
from core.detectors import Detector, Frame, Observation
from core.errors import ConfigError
from core.plugin_manager import InvigilatorPluginManager
from core.policy import ProctoringPolicy
from core.ports import BlobStore, Bus, Cache, Database, EventLog, JobQueue
from core.rules import AttemptRules, Violation
from core.services import Services
from core.settings import Settings, load_settings

ATTEMPT = "try"  # the attempt id every frame and clip of the clip is stamped with
EXIT_FAILED = 1  # the detector would not load or raised
EXIT_USAGE = 2  # unknown detector, unreadable clip, bad configuration


class ClipError(Exception):
    """The clip cannot be read (missing, not media, no stream of the kind the detector needs)."""


class _NoBackend:
    """Stands in for every backend: registration hooks should only read their section."""

    def __getattr__(self, name: str) -> NoReturn:
        raise RuntimeError(f"'plugins try' opens no backends; the registration used .{name}")


def offline_services(settings: Settings, pm: InvigilatorPluginManager) -> Services:
    """The :class:`Services` a registration hook sees: real sections, no backends."""
    none = _NoBackend()
    services = Services(
        settings=settings,
        db=cast("Database", none),
        events=cast("EventLog", none),
        blobs=cast("BlobStore", none),
        cache=cast("Cache", none),
        bus=cast("Bus", none),
        jobs=cast("JobQueue", none),
        sections=dict(pm.sections),
    )
    services.plugins = pm
    return services


def build_detectors(
    settings: Settings, pm: InvigilatorPluginManager
) -> tuple[list[AnyDetector], dict[str, str]]:
    """Every plugin's detectors (not loaded) and the plugins whose registration raised."""
    from webapp.lifecycle import collect_detectors  # noqa: PLC0415 (pulls in storage)

    services = offline_services(settings, pm)
    collect_detectors(pm, services)
    return services.detectors, services.detector_failures


# -- decoding ----------------------------------------------------------------------------------


def _open(path: Path) -> Any:
    import av  # noqa: PLC0415 (heavy; only this command decodes)

    if not path.is_file():
        raise ClipError(f"{path}: no such file")
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as error:
        raise ClipError(f"{path}: not a readable video, image or audio file ({error})") from error


def upright(image: np.ndarray, rotation: float | int | None) -> np.ndarray:
    """The frame as a viewer sees it: phones record sideways and store a display rotation
    (counter-clockwise degrees) beside the pixels. Detectors must see the upright picture, or
    a portrait recording reaches them as a face lying on its side (roll ~90°, gaze on the
    wrong axis)."""
    quarter_turns = round(float(rotation or 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(image, quarter_turns)) if quarter_turns else image


def video_frames(
    path: Path, interval_s: float, seconds: float | None
) -> Iterator[tuple[float, np.ndarray]]:
    """``(t, bgr)`` every ``interval_s`` of the clip's first ``seconds``.

    A still image is one frame at t = 0, repeated every ``interval_s`` up to ``seconds`` when
    that is given, so a photo can drive a rule that needs the condition to last."""
    import av  # noqa: PLC0415

    container = _open(path)
    try:
        if not container.streams.video:
            raise ClipError(f"{path}: no video stream (is it an audio file?)")
        stream = container.streams.video[0]
        first: float | None = None
        due = 0.0
        decoded = 0
        still: np.ndarray | None = None
        try:
            for frame in container.decode(stream):
                stamp = float(frame.time) if frame.time is not None else decoded * interval_s
                decoded += 1
                first = stamp if first is None else first
                t = stamp - first
                if seconds is not None and t > seconds:
                    break
                if t + 1e-6 < due:
                    continue
                image = upright(frame.to_ndarray(format="bgr24"), getattr(frame, "rotation", 0))
                still = image if decoded == 1 else None
                yield t, image
                due = t + interval_s
        except av.FFmpegError as error:
            raise ClipError(f"{path}: decoding failed after {decoded} frames ({error})") from error
        if decoded == 0:
            raise ClipError(f"{path}: the video stream holds no frame")
        if decoded == 1 and still is not None and seconds is not None:
            t = interval_s
            while t <= seconds + 1e-6:
                yield t, still
                t += interval_s
    finally:
        container.close()


def audio_clips(
    path: Path, clip_s: float, seconds: float | None
) -> Iterator[tuple[float, np.ndarray]]:
    """``(t_end, int16 samples)``: the audio as 16 kHz mono, cut into clips of ``clip_s``."""
    import av  # noqa: PLC0415

    container = _open(path)
    try:
        if not container.streams.audio:
            raise ClipError(f"{path}: no audio stream")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        size = max(WINDOW_SAMPLES, round(clip_s * AUDIO_RATE))
        limit = None if seconds is None else round(seconds * AUDIO_RATE)
        pending = np.zeros(0, dtype=np.int16)
        heard = 0  # samples already handed out

        def resampled(frame: Any) -> np.ndarray:
            parts = [o.to_ndarray().reshape(-1).astype(np.int16) for o in resampler.resample(frame)]
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)

        def frames() -> Iterator[Any]:
            try:
                yield from container.decode(container.streams.audio[0])
            except av.FFmpegError as error:
                raise ClipError(f"{path}: decoding failed ({error})") from error
            yield None  # flush the resampler

        for frame in frames():
            pending = np.concatenate((pending, resampled(frame)))
            if limit is not None:
                pending = pending[: max(0, limit - heard)]
            while pending.size >= size or (frame is None and pending.size >= WINDOW_SAMPLES):
                clip, pending = pending[:size], pending[size:]
                heard += clip.size
                yield heard / AUDIO_RATE, clip
            if limit is not None and heard >= limit:
                break
        if heard == 0:
            raise ClipError(f"{path}: the audio stream holds less than 32 ms of sound")
    finally:
        container.close()


# -- running -----------------------------------------------------------------------------------


def observations(
    detector: AnyDetector, path: Path, fps: float, seconds: float | None
) -> Iterator[Observation]:
    """What the detector says about the clip, in time order, one attempt per call as live."""
    needs = detector.needs
    if needs.audio and isinstance(detector, AudioDetector):
        for t, samples in audio_clips(path, needs.min_interval_s, seconds):
            yield from detector.detect_audio([AudioClip(ATTEMPT, t, samples)])
        detector.forget(ATTEMPT)
        return
    video = cast("Detector", detector)
    interval = max(1.0 / fps, needs.min_interval_s)
    for t, sampled in video_frames(path, interval, seconds):
        image = sampled
        if needs.input_size is not None:
            import cv2  # noqa: PLC0415

            image = cv2.resize(sampled, needs.input_size, interpolation=cv2.INTER_AREA)
        yield from video.detect([Frame(ATTEMPT, t, image)])


def plugin_rules(kind: str, fps: float) -> AttemptRules:
    """The rules that read ``kind`` as the default policy runs them at ``fps`` analysis."""
    policy = ProctoringPolicy(enabled=True, analysis_fps=min(10.0, fps))
    return AttemptRules(ATTEMPT, [r for r in policy.rules_for() if kind in r.sources])


def _format_values(values: dict[str, Any]) -> str:
    return " ".join(f"{k}={json.dumps(v, default=str)}" for k, v in values.items())


def _fail(message: str, code: int) -> NoReturn:
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def _violation_line(violation: Violation) -> str:
    end = violation.ended_at if violation.ended_at is not None else violation.started_at
    return (
        f"violation {violation.kind} ({violation.severity}) "
        f"{violation.started_at:7.2f}-{end:.2f} s  {violation.describe(end)}"
    )


def _pick(detectors: Sequence[AnyDetector], failures: dict[str, str], name: str) -> AnyDetector:
    for detector in detectors:
        if detector.name == name:
            return detector
    names = ", ".join(sorted(d.name for d in detectors)) or "none"
    lines = [f"unknown detector {name!r}; available: {names}"]
    lines += [f"  {who} could not build its detectors: {why}" for who, why in failures.items()]
    _fail("\n".join(lines), EXIT_USAGE)


@click.command("try")
@click.argument("name")
@click.option(
    "--clip",
    "clip",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A video, a still image or (for audio detectors) an audio file.",
)
@click.option(
    "--fps",
    type=click.FloatRange(0.05, 30),
    default=2.0,
    show_default=True,
    help="Frames analysed per second of video (the exam policy's analysis_fps).",
)
@click.option(
    "--seconds",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Only the first N seconds; a still image is shown for N seconds.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def plugins_try(name: str, clip: Path, fps: float, seconds: float | None, as_json: bool) -> None:
    """Run detector NAME over a clip: its observations, then the violations its rules raise."""
    detector = _loaded(name, clip)
    kind = f"observation.{name}"
    rules = plugin_rules(kind, fps)
    violations: dict[str, Violation] = {}
    last = 0.0
    try:
        for observation in observations(detector, clip, fps, seconds):
            last = observation.ts
            values = {**observation.values, "confidence": observation.confidence}
            if as_json:
                click.echo(json.dumps({"t": round(observation.ts, 3), **values}, default=str))
            else:
                conf = f"confidence={observation.confidence:.2f}"
                click.echo(f"{observation.ts:7.2f} s  {_format_values(observation.values)} {conf}")
            for change in rules.feed(f"observation.{observation.detector}", last, values):
                violations[change.violation.id] = change.violation
    except ClipError as error:
        _fail(str(error), EXIT_USAGE)
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        sys.exit(0)
    except Exception as error:  # a detect() that raises: the server logs it; here it is fatal
        _fail(f"detector {name!r} raised: {type(error).__name__}: {error}", EXIT_FAILED)
    for change in rules.close(last):
        violations[change.violation.id] = change.violation
    _report(kind, rules, sorted(violations.values(), key=lambda v: v.started_at), as_json)


def _loaded(name: str, clip: Path) -> AnyDetector:
    """The named detector built from plugins.toml and loaded, or the command ends saying why."""
    from webapp.app import load_plugin_manager  # noqa: PLC0415

    try:
        settings = load_settings()
        pm = load_plugin_manager(settings)
    except ConfigError as error:
        _fail(f"configuration error: {error.message}", EXIT_USAGE)
    detectors, failures = build_detectors(settings, pm)
    detector = _pick(detectors, failures, name)
    try:
        _open(clip).close()  # an unreadable clip is reported before a slow model load
    except ClipError as error:
        _fail(str(error), EXIT_USAGE)
    try:
        detector.load()
    except Exception as error:
        _fail(f"detector {name!r} failed to load: {type(error).__name__}: {error}", EXIT_FAILED)
    return detector


def _report(kind: str, rules: AttemptRules, violations: list[Violation], as_json: bool) -> None:
    if as_json:
        for violation in violations:
            click.echo(json.dumps({"violation": violation.model_dump(exclude={"id"})}))
        return
    if not rules.rules:
        click.echo(f"no rule reads {kind}")
    elif not violations:
        click.echo(f"no violation ({', '.join(r.kind for r in rules.rules)} checked)")
    for violation in violations:
        click.echo(_violation_line(violation))
