"""CPU cost of the gaze detector (mediapipe face mesh with irises, solvePnP, iris gaze) per frame.

Feeds the detector 640x480 camera frames of a real face (scikit-image's astronaut, scaled into
the frame) in batches of one frame per attempt, exactly as the pipeline hands them over, and
times each batched ``detect`` call on one thread. Also times a frame without a face (the mesh's
detector runs, the landmark model does not) and the geometry alone (pose, gaze, verdict) on a
mesh measured once. Prints a Markdown table: latency per batch and per frame, and the share of
one core one candidate costs at the default interval (one look every 0.5 s).

    .venv/bin/python bench/detector_gaze.py --batches 1 8 32 --rounds 100
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.detectors import Frame  # noqa: E402
from plugins.detectors.gaze.plugin import GazeConfig, GazeDetector, values  # noqa: E402


def face_frame() -> np.ndarray:
    """A 640x480 BGR frame with the astronaut's head and shoulders in it."""
    from skimage import data  # noqa: PLC0415

    photo = cv2.resize(data.astronaut()[:, :, ::-1], (480, 480))
    frame = np.full((480, 640, 3), 110, dtype=np.uint8)
    frame[:, 80:560] = photo
    return frame


def percentile(values_: list[float], share: float) -> float:
    ordered = sorted(values_)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def time_batches(detector: GazeDetector, image: np.ndarray, size: int, rounds: int) -> list[float]:
    frames = [Frame(f"a{i}", float(i), image) for i in range(size)]
    for _ in range(5):  # warm-up
        detector.detect(frames)
    seconds: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        detector.detect(frames)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()

    config = GazeConfig()
    detector = GazeDetector(config)
    started = time.perf_counter()
    detector.load()
    load_ms = (time.perf_counter() - started) * 1000
    image = face_frame()
    (first,) = detector.detect([Frame("a", 0.0, image)])
    assert first.values["face"], "the benchmark frame must show a face"

    print(f"python {platform.python_version()}, {platform.processor() or platform.machine()}")
    print(f"model load {load_ms:.0f} ms; first frame: {first.values}")
    print()
    print(
        "| frames | attempts per batch | batch ms p50 / p95 | per frame ms | core % per candidate |"
    )
    print("|---|---|---|---|---|")
    blank = np.full((480, 640, 3), 110, dtype=np.uint8)
    for label, frame in (("face", image), ("no face", blank)):
        for size in args.batches:
            seconds = time_batches(detector, frame, size, args.rounds)
            p50, p95 = statistics.median(seconds) * 1000, percentile(seconds, 0.95) * 1000
            per_frame = p50 / size
            share = per_frame / 1000 / config.min_interval_s * 100
            print(f"| {label} | {size} | {p50:.2f} / {p95:.2f} | {per_frame:.2f} | {share:.2f} |")

    mesh = detector.landmarks(detector._model(), image)
    assert mesh is not None
    rounds = max(200, args.rounds * 10)
    started = time.perf_counter()
    for _ in range(rounds):
        values(mesh, image, {}, config)
    geometry_ms = (time.perf_counter() - started) / rounds * 1000
    print()
    print(f"geometry alone (solvePnP, iris gaze, verdict): {geometry_ms:.3f} ms per frame")


if __name__ == "__main__":
    main()
