"""CPU cost of the audio detector (Silero VAD on onnxruntime plus the level meter) per clip.

Feeds the detector real speech (espeak-ng, when installed; white noise otherwise; the model's
cost does not depend on what it hears) in clips of ``--clip`` seconds, one clip per attempt
per batch, exactly as the pipeline hands them over, and times each batched ``detect_audio``
call on one thread. Prints a Markdown table: latency per batch and per clip, and the share of
one core that one candidate's microphone costs at that clip length.

    .venv/bin/python bench/detector_audio.py --clip 0.5 --batches 1 8 32 --rounds 200
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.audio import AUDIO_RATE, AudioClip  # noqa: E402
from plugins.detectors.audio.plugin import AudioConfig, SpeechDetector  # noqa: E402

TEXT = (
    "Please read the second question aloud and tell me which answer you would choose, "
    "then explain the reason for your choice in a few short sentences."
)


def speech() -> tuple[np.ndarray, str]:
    """Some seconds of 16 kHz int16 audio, and what it is."""
    if shutil.which("espeak-ng") is None:
        rng = np.random.default_rng(0)
        return (rng.standard_normal(10 * AUDIO_RATE) * 3000).astype(np.int16), "white noise"
    import av  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), TEXT], check=True, capture_output=True)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        pieces = []
        with av.open(str(wav)) as container:
            for frame in container.decode(audio=0):
                pieces += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    return np.concatenate(pieces).astype(np.int16), "espeak-ng speech"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=float, default=0.5, help="seconds per clip")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--rounds", type=int, default=200, help="batches timed per size")
    args = parser.parse_args()

    audio, what = speech()
    step = round(args.clip * AUDIO_RATE)
    detector = SpeechDetector(AudioConfig(min_clip_s=args.clip))
    started = time.perf_counter()
    detector.load()
    load_ms = (time.perf_counter() - started) * 1000
    print(f"{what}, {audio.size / AUDIO_RATE:.1f} s; clips of {args.clip} s; load {load_ms:.0f} ms")
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}\n")
    print(
        "| attempts per batch | batch ms p50 / p95 | per clip ms | per window ms "
        "| core % per candidate |"
    )
    print("|---|---|---|---|---|")
    for size in args.batches:
        timings: list[float] = []
        position = 0
        for round_ in range(args.rounds + 10):
            clips = []
            for attempt in range(size):
                start = (position + attempt * step) % (audio.size - step)
                clips.append(AudioClip(f"a{attempt}", float(round_), audio[start : start + step]))
            position += step
            began = time.perf_counter()
            detector.detect_audio(clips)
            if round_ >= 10:  # the first batches warm caches and allocate each stream's state
                timings.append(time.perf_counter() - began)
        per_clip = statistics.mean(timings) / size
        windows = step // 512
        print(
            f"| {size} | {percentile(timings, 0.5) * 1000:.2f} / "
            f"{percentile(timings, 0.95) * 1000:.2f} | {per_clip * 1000:.3f} | "
            f"{per_clip / windows * 1000:.4f} | {per_clip / args.clip * 100:.2f} |"
        )
        for attempt in range(size):
            detector.forget(f"a{attempt}")


if __name__ == "__main__":
    main()
