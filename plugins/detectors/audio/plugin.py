"""Speech and loud noise: is someone talking near the candidate, did something bang?

Speech comes from Silero VAD (MIT), whose ONNX models ship inside the ``silero-vad`` wheel, so
nothing is downloaded. The package itself is never imported: importing it imports torch and
calls ``torch.set_num_threads(1)``, which would slow every other torch model in the process.
Its "sequence" export is run directly with onnxruntime instead. That export computes the same
per-window probabilities as the streaming model (32 ms windows of 512 samples, each prefixed
with the last 64 samples of the one before) but takes a whole clip in one call, so a clip costs
one trip into native code rather than one per window. Its recurrent state (``h``, ``c``) and the
64-sample context are carried from one clip of an attempt to the next, kept per attempt and
dropped when the pipeline says the attempt went away; one session serves every attempt.

Loudness needs no model: the level of the loudest tenth of a second, in dBFS. A VAD alone
would miss a door slam or music, and a level alone cannot tell speech from a fan: the
observation carries both and the rules decide.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from core.audio import AUDIO_RATE, WINDOW_SAMPLES, AudioClip
from core.detectors import DetectorNeeds, Observation
from core.hookspecs import hookimpl
from core.policy import Condition, Rule
from core.services import Services
from plugins.detectors.shared_models import shared

SECTION = "detector_audio"
MODEL_FILE = "silero_vad_16k_sequence.onnx"
CONTEXT_SAMPLES = 64  # what the model sees of the previous window
WINDOW_S = WINDOW_SAMPLES / AUDIO_RATE
LOUD_SPAN_S = 0.1  # loudness is judged on the loudest span this long, not on one sample
FLOOR_DB = -120.0  # digital silence (JSON has no -inf)
FULL_SCALE = 32768.0
IDLE_FORGET_S = 600.0  # a stream not heard this long is forgotten even if nobody said so


class AudioConfig(BaseModel):
    """``[detector_audio]`` in plugins.toml."""

    enabled: bool = Field(True, description="Run the audio detector (speech and loud noise).")
    speech_threshold: float = Field(
        0.5,
        gt=0.0,
        lt=1.0,
        description="A 32 ms window whose speech probability reaches this counts as speech.",
    )
    min_speech_s: float = Field(
        0.25,
        ge=0.0,
        le=2.0,
        description="A clip with at least this much speech is reported as speech.",
    )
    loud_db: float = Field(
        -10.0,
        ge=-60.0,
        le=0.0,
        description="A clip whose loudest 0.1 s reaches this RMS level (dBFS; 0 is full "
        "scale, the loudest moments of close speech reach about -15) is reported as loud.",
    )
    min_clip_s: float = Field(
        0.5,
        ge=0.1,
        le=2.0,
        description="Seconds of an attempt's audio collected before it is analysed: one "
        "observation per clip.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "cpu",
        description="onnxruntime provider; auto: CUDA when onnxruntime has it, else CPU. The "
        "model is tiny, so a GPU saves nothing and CPU is the default.",
    )


def model_path() -> Path:
    """The ONNX file inside the installed ``silero-vad`` package, found without importing it."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the silero-vad package (it ships the VAD model) is missing")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"silero-vad does not ship {MODEL_FILE} (version 6.2 or later)")
    return path


def providers(device: str) -> list[str]:
    """The onnxruntime providers for ``device``; raises when CUDA is demanded but absent."""
    if device == "cpu":
        return ["CPUExecutionProvider"]
    import onnxruntime  # noqa: PLC0415 (only when a GPU is considered)

    has_cuda = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    if device == "cuda" and not has_cuda:
        raise RuntimeError("device = cuda, but this onnxruntime has no CUDA provider")
    return (
        ["CUDAExecutionProvider", "CPUExecutionProvider"] if has_cuda else ["CPUExecutionProvider"]
    )


def decibels(mean_square: float) -> float:
    """RMS level in dBFS of a mean square over int16 samples, floored for silence."""
    if mean_square <= 0:
        return FLOOR_DB
    return max(FLOOR_DB, 10 * math.log10(mean_square) - 20 * math.log10(FULL_SCALE))


def levels(samples: np.ndarray) -> tuple[float, float, float]:
    """(RMS of the clip, its sample peak, RMS of its loudest 0.1 s), each in dBFS."""
    if not samples.size:
        return FLOOR_DB, FLOOR_DB, FLOOR_DB
    x = samples.astype(np.float64)
    squares = x * x
    peak = float(np.abs(x).max())
    span = min(samples.size, round(LOUD_SPAN_S * AUDIO_RATE))
    running = np.concatenate(([0.0], np.cumsum(squares)))
    loudest = float((running[span:] - running[:-span]).max()) / span
    return (
        decibels(float(squares.mean())),
        decibels(peak * peak) if peak else FLOOR_DB,
        decibels(loudest),
    )


@dataclass
class _Stream:
    """One attempt's model state between clips."""

    h: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 128), dtype=np.float32))
    c: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 128), dtype=np.float32))
    context: np.ndarray = field(default_factory=lambda: np.zeros(CONTEXT_SAMPLES, np.float32))
    leftover: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    heard: float = 0.0  # ts of its newest clip


class SpeechDetector:
    """Silero VAD plus a level meter behind the :class:`core.audio.AudioDetector` protocol."""

    name = "audio"

    def __init__(self, config: AudioConfig) -> None:
        self.config = config
        self.needs = DetectorNeeds(
            video=False,
            audio=True,
            min_interval_s=config.min_clip_s,
            device="gpu" if config.device == "cuda" else "cpu",
        )
        self._session: Any = None
        self._streams: dict[str, _Stream] = {}

    def load(self) -> None:
        """Open the model and run it once, so a broken install fails here and not mid-exam."""
        import onnxruntime  # noqa: PLC0415 (heavy; only where the detector runs)

        chosen = providers(self.config.device)
        path = str(model_path())  # a missing model fails here even when a session is cached

        def build() -> Any:
            options = onnxruntime.SessionOptions()
            # One thread: the detector has a worker thread of its own, and the model is small
            # enough that more threads only contend with video decoding for the cores.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            return onnxruntime.InferenceSession(path, sess_options=options, providers=chosen)

        # One session per process (its native memory is not returned when dropped); ``run``
        # is safe to call from several threads, and the per-attempt state lives in this object.
        self._session = shared(("silero_vad", path, tuple(chosen)), build).model
        self._speech(_Stream(), np.zeros(WINDOW_SAMPLES, dtype=np.int16))

    @property
    def attempts(self) -> int:
        """How many attempts' stream state is held (for tests and diagnostics)."""
        return len(self._streams)

    def forget(self, attempt_id: str) -> None:
        self._streams.pop(attempt_id, None)

    def detect_audio(self, clips: Sequence[AudioClip]) -> list[Observation]:
        observations = [self._one(clip) for clip in clips if clip.samples.size]
        if clips:
            # ``forget`` covers streams that end; this covers one that ended while its last
            # clip was already on its way here, which would otherwise be kept for good.
            newest = max(clip.ts for clip in clips)
            for attempt_id, stream in list(self._streams.items()):
                if newest - stream.heard > IDLE_FORGET_S:
                    del self._streams[attempt_id]
        return observations

    def _one(self, clip: AudioClip) -> Observation:
        stream = self._streams.get(clip.attempt_id)
        if stream is None:
            stream = self._streams[clip.attempt_id] = _Stream()
        stream.heard = clip.ts
        probabilities = self._speech(stream, clip.samples)
        threshold = self.config.speech_threshold
        speech_s = float(np.count_nonzero(probabilities >= threshold)) * WINDOW_S
        top = float(probabilities.max()) if probabilities.size else 0.0
        rms_db, peak_db, loudest_db = levels(clip.samples)
        return Observation(
            attempt_id=clip.attempt_id,
            ts=clip.ts,
            detector=self.name,
            values={
                "speech_prob": round(top, 3),
                "speech_s": round(speech_s, 3),
                "speech": speech_s >= max(self.config.min_speech_s, WINDOW_S),
                "rms_db": round(rms_db, 1),
                "peak_db": round(peak_db, 1),
                "loudest_db": round(loudest_db, 1),
                "loud": loudest_db >= self.config.loud_db,
                "clip_s": round(clip.duration_s, 3),
            },
            # How sure the speech verdict is: the model's probability on the side it chose.
            confidence=round(max(top, 1.0 - top), 3),
        )

    def _speech(self, stream: _Stream, samples: np.ndarray) -> np.ndarray:
        """Per-window speech probabilities of ``samples`` continuing ``stream``.

        Samples short of a whole window wait in the stream for the next clip instead of being
        padded, so the model hears the stream exactly as the streaming model would.
        """
        audio = np.concatenate((stream.leftover, samples)) if stream.leftover.size else samples
        whole = audio.size // WINDOW_SAMPLES * WINDOW_SAMPLES
        stream.leftover = audio[whole:].astype(np.int16, copy=True)
        if not whole:
            return np.zeros(0, dtype=np.float32)
        windows = (audio[:whole].astype(np.float32) / FULL_SCALE).reshape(-1, WINDOW_SAMPLES)
        contexts = np.empty((windows.shape[0], CONTEXT_SAMPLES), dtype=np.float32)
        contexts[0] = stream.context
        contexts[1:] = windows[:-1, -CONTEXT_SAMPLES:]
        block = np.concatenate((contexts, windows), axis=1)
        probabilities, stream.h, stream.c = self._session.run(
            ["speech_probs", "hn", "cn"], {"input": block, "h": stream.h, "c": stream.c}
        )
        stream.context = windows[-1, -CONTEXT_SAMPLES:].copy()
        return np.asarray(probabilities, dtype=np.float32).reshape(-1)


RULES = (
    Rule(
        kind="talking",
        detector="audio",
        label="Talking",
        shape="state",
        sources=("observation.audio",),
        when=Condition(field="speech", value=True),
        min_duration_s=5,
        gap_s=2,
        severity="medium",
        weight=5,
        per_minute=10,
        max_points=30,
    ),
    Rule(
        kind="loud_noise",
        detector="audio",
        label="Loud noise",
        shape="instant",
        sources=("observation.audio",),
        when=Condition(field="loud", value=True),
        merge_s=30,
        severity="low",
        weight=2,
        max_points=10,
    ),
)


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {SECTION: AudioConfig}


@hookimpl
def invigilator_register_detectors(services: Services) -> Iterable[SpeechDetector]:
    config = services.section(SECTION, AudioConfig)
    return [SpeechDetector(config)] if config.enabled else []


@hookimpl
def invigilator_register_rules() -> Iterable[Rule]:
    """Registered even when the detector is off, so policies that tune them stay valid."""
    return RULES
