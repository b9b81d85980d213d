"""The audio detector on real audio: speech synthesised by espeak-ng is heard as speech, noise,
a tone and silence are not, a bang is loud; each attempt keeps its own model state; the rules
turn sustained talking (not a short word) into a violation; and over real WebRTC, a candidate
talking into their microphone reaches the event log and the wall as ``talking``."""

from __future__ import annotations

import asyncio
import fractions
import functools
import importlib.util
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from core.audio import AUDIO_RATE, AudioClip
from core.detectors import Observation
from core.pipeline import Pipeline
from core.rules import AttemptRules, RuleChange
from core.services import Services
from plugins.detectors.audio.plugin import (
    RULES,
    AudioConfig,
    SpeechDetector,
    _Stream,
    levels,
    model_path,
)
from plugins.proctoring.consent import CONSENT_VERSION
from plugins.proctoring.plugin import analysis_for
from plugins.proctoring.tables import ProctoringConsent
from storage.tables.user import User
from tests.exams.support import Client, add_question, create_exam, fixed, headers
from tests.exams.support import start as start_attempt
from tests.proctoring.conftest import (
    app,
    candidate,
    candidates,
    client,
    examiner,
    services,
    settings,
)

__all__ = ["app", "candidate", "candidates", "client", "examiner", "services", "settings"]

SENTENCE = (
    "Please read the second question aloud and tell me which answer you would choose, "
    "then explain the reason for your choice in a few short sentences."
)
CLIP = AUDIO_RATE // 2  # the detector's default clip: half a second


@functools.cache
def say(text: str) -> np.ndarray:
    """``text`` spoken by espeak-ng, as 16 kHz mono int16 (resampled with libswresample)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        pieces: list[np.ndarray] = []
        with av.open(str(wav)) as container:
            for frame in container.decode(audio=0):
                pieces += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            pieces += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(pieces).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * AUDIO_RATE), dtype=np.int16)


def noise(seconds: float, level: float = 3000.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    samples = rng.standard_normal(round(seconds * AUDIO_RATE)) * level
    return samples.clip(-32768, 32767).astype(np.int16)


def tone(seconds: float, hertz: float = 440.0, level: float = 8000.0) -> np.ndarray:
    t = np.arange(round(seconds * AUDIO_RATE)) / AUDIO_RATE
    return (np.sin(2 * np.pi * hertz * t) * level).astype(np.int16)


def listen(
    detector: SpeechDetector, audio: np.ndarray, attempt: str = "a", t0: float = 1000.0
) -> list[Observation]:
    """``audio`` in half-second clips, as the pipeline would hand it over, one call each."""
    seen: list[Observation] = []
    for start in range(0, audio.size, CLIP):
        piece = audio[start : start + CLIP]
        ts = t0 + (start + piece.size) / AUDIO_RATE
        seen += detector.detect_audio([AudioClip(attempt, ts, piece)])
    return seen


@pytest.fixture
def detector() -> SpeechDetector:
    ears = SpeechDetector(AudioConfig())
    ears.load()
    return ears


def test_a_spoken_sentence_is_speech(detector: SpeechDetector) -> None:
    sentence = say(SENTENCE)
    assert sentence.size > 7 * AUDIO_RATE  # a real sentence, not a blip
    seen = listen(detector, sentence)
    speech = [o for o in seen if o.values["speech"]]
    assert len(speech) >= 0.7 * len(seen)
    assert sum(o.values["speech_s"] for o in seen) > 4.0
    assert max(o.values["speech_prob"] for o in seen) > 0.9
    assert all(o.detector == "audio" and o.attempt_id == "a" for o in seen)
    assert not any(o.values["loud"] for o in seen)  # ordinary speech is not "loud noise"
    first = seen[0]
    assert first.ts == pytest.approx(1000.5)
    assert set(first.values) >= {"speech_prob", "speech_s", "speech", "rms_db", "peak_db", "loud"}


def test_noise_and_a_tone_are_not_speech(detector: SpeechDetector) -> None:
    for name, audio in (("noise", noise(3.0)), ("tone", tone(3.0))):
        seen = listen(detector, audio, attempt=name)
        assert seen, name
        assert not any(o.values["speech"] for o in seen), name
        assert max(o.values["speech_prob"] for o in seen) < 0.5, name
        assert all(o.values["rms_db"] > -40 for o in seen), name  # audible, just not speech


def test_silence_is_nothing(detector: SpeechDetector) -> None:
    seen = listen(detector, silence(2.0))
    assert len(seen) == 4
    for observation in seen:
        values = observation.values
        assert (values["speech"], values["loud"], values["speech_s"]) == (False, False, 0.0)
        assert values["rms_db"] == values["peak_db"] == -120.0
        assert observation.confidence > 0.9  # sure that nobody speaks


def test_a_loud_bang_is_loud_and_only_where_it_happened(detector: SpeechDetector) -> None:
    audio = np.concatenate([silence(1.0), noise(0.2, level=20000), silence(1.0), say("Hello.")])
    seen = listen(detector, audio)
    loud = [i for i, o in enumerate(seen) if o.values["loud"]]
    assert loud == [2]  # the clip covering 1.0-1.5 s
    assert seen[2].values["loudest_db"] > -10
    assert seen[2].values["peak_db"] > -3
    assert not seen[2].values["speech"]


def test_levels_are_in_dbfs() -> None:
    full = np.full(AUDIO_RATE, 32767, dtype=np.int16)
    rms, peak, loudest = levels(full)
    assert rms == pytest.approx(0.0, abs=0.01)
    assert peak == pytest.approx(0.0, abs=0.01)
    assert loudest == pytest.approx(0.0, abs=0.01)
    rms, _, _ = levels(tone(1.0, level=32767 / 10))  # a sine 20 dB down is 23 dB down in RMS
    assert rms == pytest.approx(-23.0, abs=0.1)
    assert levels(np.zeros(0, dtype=np.int16)) == (-120.0, -120.0, -120.0)


def test_attempts_keep_their_own_state(detector: SpeechDetector) -> None:
    """Two attempts interleaved in shared batches give exactly what each gives alone."""
    voice, hum = say(SENTENCE)[: 4 * AUDIO_RATE], tone(4.0, hertz=220)
    alone_voice = listen(detector, voice, attempt="v")
    alone_hum = listen(detector, hum, attempt="h")
    fresh = SpeechDetector(AudioConfig())
    fresh.load()
    together: list[Observation] = []
    for start in range(0, voice.size, CLIP):
        ts = 1000.0 + (start + CLIP) / AUDIO_RATE
        together += fresh.detect_audio(
            [
                AudioClip("v", ts, voice[start : start + CLIP]),
                AudioClip("h", ts, hum[start : start + CLIP]),
            ]
        )
    assert [o.values for o in together if o.attempt_id == "v"] == [o.values for o in alone_voice]
    assert [o.values for o in together if o.attempt_id == "h"] == [o.values for o in alone_hum]
    assert fresh.attempts == 2
    fresh.forget("v")
    assert fresh.attempts == 1
    fresh.detect_audio([AudioClip("late", 1000.0 + 700, hum[:CLIP])])  # h unheard > 10 min
    assert fresh.attempts == 1


def test_clip_boundaries_do_not_change_what_the_model_hears(detector: SpeechDetector) -> None:
    """Odd clip sizes (remainders carried over) equal the stock streaming model window by
    window: the context and recurrent state are handled exactly as silero's own loop does."""
    ort = pytest.importorskip("onnxruntime")
    audio = say(SENTENCE)[: 3 * AUDIO_RATE]
    stream, probabilities = _Stream(), []
    for start in range(0, audio.size, 700):
        probabilities.append(detector._speech(stream, audio[start : start + 700]))
    ours = np.concatenate(probabilities)
    stock = ort.InferenceSession(
        str(model_path().with_name("silero_vad.onnx")), providers=["CPUExecutionProvider"]
    )
    state = np.zeros((2, 1, 128), dtype=np.float32)
    context = np.zeros((1, 64), dtype=np.float32)
    theirs = []
    for start in range(0, audio.size - 511, 512):
        window = audio[start : start + 512].astype(np.float32)[None, :] / 32768.0
        x = np.concatenate([context, window], axis=1)
        out, state = stock.run(None, {"input": x, "state": state, "sr": np.array(16000)})
        context = x[:, -64:]
        theirs.append(float(out[0, 0]))
    assert ours.size == len(theirs)
    assert np.allclose(ours, theirs, atol=1e-4)
    assert (ours > 0.5).sum() > 20  # it did hear speech


def test_a_missing_model_is_a_clear_load_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="silero-vad"):
        SpeechDetector(AudioConfig()).load()


def test_cuda_demanded_without_a_cuda_runtime_fails_to_load() -> None:
    ort = pytest.importorskip("onnxruntime")
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    ears = SpeechDetector(AudioConfig(device="cuda"))
    assert ears.needs.device == "gpu"
    with pytest.raises(RuntimeError, match="CUDA"):
        ears.load()


# -- rules ----------------------------------------------------------------------------------


def changes_for(observations: list[Observation], until: float) -> list[RuleChange]:
    rules = AttemptRules("a", list(RULES))
    changes: list[RuleChange] = []
    for observation in observations:
        changes += rules.feed("observation.audio", observation.ts, observation.values)
        changes += rules.tick(observation.ts)
    return changes + rules.tick(until)


def test_sustained_talking_is_a_violation_and_a_short_word_is_not(
    detector: SpeechDetector,
) -> None:
    talk = np.concatenate([silence(1.0), say(SENTENCE), silence(4.0)])
    seen = listen(detector, talk)
    changes = changes_for(seen, until=seen[-1].ts + 1)
    talking = [c for c in changes if c.violation.kind == "talking"]
    assert [c.type for c in talking] == ["started", "ended"]
    violation = talking[-1].violation
    assert violation.label == "Talking"
    assert violation.severity == "medium"
    assert 1000.5 <= violation.started_at <= 1002.0  # when the voice began
    assert violation.ended_at is not None
    assert violation.duration_s() > 5

    detector.forget("a")
    word = say("Okay, thanks.")
    assert word.size < 1.5 * AUDIO_RATE
    short = listen(detector, np.concatenate([silence(1.0), word, silence(6.0)]))
    assert any(o.values["speech"] for o in short)  # heard, but too short to be talking
    assert changes_for(short, until=short[-1].ts + 10) == []


def test_loud_noise_is_an_instant_violation_and_repeats_merge(detector: SpeechDetector) -> None:
    bang = np.concatenate([silence(1.0), noise(0.2, level=20000), silence(0.8)])
    seen = listen(detector, np.concatenate([bang, bang, silence(1.0)]))
    changes = changes_for(seen, until=seen[-1].ts)
    assert [(c.type, c.violation.kind) for c in changes] == [
        ("started", "loud_noise"),
        ("updated", "loud_noise"),
    ]
    violation = changes[-1].violation
    assert (violation.count, violation.detector, violation.severity) == (2, "audio", "low")
    assert violation.evidence["loud"] is True


# -- the pipeline and the live path ---------------------------------------------------------


async def test_the_pipeline_batches_clips_to_the_real_detector() -> None:
    got: list[Observation] = []

    async def sink(observations: list[Observation]) -> None:
        got.extend(observations)

    pipeline = Pipeline([SpeechDetector(AudioConfig())], sink)
    assert await pipeline.load() == {}
    sentence = say(SENTENCE)[: 2 * AUDIO_RATE]
    for start in range(0, sentence.size, 4096):  # a quarter second at a time, like a drain
        piece = sentence[start : start + 4096]
        pipeline.submit_audio([AudioClip("a", 1.0 + start / AUDIO_RATE, piece)])
        await asyncio.sleep(0.01)
    # 2 s in quarters: three half-second clips are due; the last 0.46 s waits for more.
    for _ in range(300):
        if len(got) == 3:
            break
        await asyncio.sleep(0.01)
    await pipeline.stop()
    assert [o.values["clip_s"] for o in got] == [0.512, 0.512, 0.512]
    assert any(o.values["speech"] for o in got)
    stats = pipeline.stats()["audio"]
    assert (stats.frames, stats.failures, stats.drops) == (3, 0, 0)


class Voice(MediaStreamTrack):
    """A microphone that speaks ``samples`` (16 kHz mono) in a loop, in real time."""

    kind = "audio"

    def __init__(self, samples: np.ndarray) -> None:
        super().__init__()
        self.samples = samples
        self.position = 0
        self.started: float | None = None

    async def recv(self) -> av.AudioFrame:
        step = AUDIO_RATE // 50  # 20 ms frames, as a browser sends
        if self.started is None:
            self.started = time.time()
        else:
            due = self.started + self.position / AUDIO_RATE
            await asyncio.sleep(max(0.0, due - time.time()))
        indices = np.arange(self.position, self.position + step) % self.samples.size
        frame = av.AudioFrame.from_ndarray(
            self.samples[indices].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = AUDIO_RATE
        frame.pts = self.position
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self.position += step
        return frame


@pytest.fixture
async def talking_attempt(
    client: Client, services: Services, examiner: User, candidate: User
) -> str:
    """A proctored attempt whose ``talking`` rule starts after 1 s of speech."""
    question = await add_question(services, "essay")
    policy = {"enabled": True, "analysis_fps": 2, "rules": {"talking": {"min_duration_s": 1}}}
    exam = await create_exam(
        client, examiner, sections=[fixed(question)], candidates=[candidate],
        proctoring_policy=policy,
    )  # fmt: skip
    assert candidate.id is not None
    async with services.db.session() as db:
        db.add(
            ProctoringConsent(
                exam_id=exam["id"], user_id=candidate.id, text_version=CONSENT_VERSION
            )
        )
        await db.commit()
    return str((await start_attempt(client, candidate, exam["id"]))["id"])


@pytest.fixture
async def microphone(client: Client, candidate: User, talking_attempt: str) -> AsyncIterator[Any]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(Voice(np.concatenate([say(SENTENCE), silence(0.5)])))
    await pc.setLocalDescription(await pc.createOffer())
    response = await client.post(
        f"/api/v1/attempts/{talking_attempt}/rtc/offer",
        json={"sdp": pc.localDescription.sdp, "type": "offer"},
        headers=headers(candidate),
    )
    assert response.status == 200, await response.text()
    await pc.setRemoteDescription(RTCSessionDescription(**await response.json()))
    try:
        yield pc
    finally:
        await pc.close()


async def test_a_candidate_talking_into_the_microphone_is_a_talking_violation(
    client: Client, services: Services, talking_attempt: str, microphone: Any
) -> None:
    analysis = analysis_for(services)
    assert analysis is not None
    assert "audio" in analysis.pipeline.audio_detectors
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    talking: list[dict[str, Any]] = []
    while not talking:
        assert loop.time() < deadline, "no talking violation arrived"
        await asyncio.sleep(0.2)
        started = await services.events.query(
            attempt_id=talking_attempt, kinds=["violation.started"]
        )
        talking = [e.data for e in started if e.data["kind"] == "talking"]
    violation = talking[0]
    assert (violation["detector"], violation["label"]) == ("audio", "Talking")
    assert violation["evidence"]["speech"] is True
    heard = await services.events.query(attempt_id=talking_attempt, kinds=["observation.audio"])
    assert heard
    assert any(e.data["speech"] for e in heard)
    assert all(e.source == "audio" for e in heard)
    stats = analysis.pipeline.stats()["audio"]
    assert stats.runs >= 3
    assert stats.failures == 0
    assert stats.audio_s >= 1.5
