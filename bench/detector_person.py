"""CPU cost of the person detector (mediapipe Pose, complexity 1) per frame.

Frames are 640x480 photographs, a person at a table and the empty table, because BlazePose's
cost depends on whether its detector finds someone (the landmark model only runs then). One
``detect`` call per batch, one frame per attempt, as the pipeline hands them over.

    .venv/bin/python bench/detector_person.py --batches 1 8 --rounds 30
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.detectors import Frame  # noqa: E402
from plugins.detectors.person.plugin import PersonConfig, PersonDetector  # noqa: E402


def scenes() -> dict[str, np.ndarray]:
    """640x480 BGR: a person at a table, and the table alone."""
    import cv2  # noqa: PLC0415
    from skimage import data  # noqa: PLC0415

    table = cv2.resize(data.coffee(), (640, 480))
    person = table.copy()
    person[200:480, 200:480] = cv2.resize(data.astronaut(), (280, 280))
    return {
        "person at a table": np.ascontiguousarray(person[:, :, ::-1]),
        "empty table": np.ascontiguousarray(table[:, :, ::-1]),
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=30, help="batches timed per setting")
    args = parser.parse_args()

    detector = PersonDetector(PersonConfig())
    started = time.perf_counter()
    detector.load()
    load_ms = (time.perf_counter() - started) * 1000
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"load {load_ms:.0f} ms\n")
    print("| scene | attempts per batch | batch ms p50 / p95 | per frame ms |")
    print("|---|---|---|---|")
    for name, image in scenes().items():
        for batch in args.batches:
            frames = [Frame(f"a{i}", 0.0, image) for i in range(batch)]
            detector.detect(frames)  # warm-up
            times = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                detector.detect(frames)
                times.append((time.perf_counter() - started) * 1000)
            p50 = statistics.median(times)
            print(
                f"| {name} | {batch} | {p50:.1f} / {percentile(times, 0.95):.1f} "
                f"| {p50 / batch:.1f} |"
            )


if __name__ == "__main__":
    main()
