"""CPU cost and measured distances of the identity detector (mediapipe faces, dlib embedding).

Feeds the detector 640x480 camera frames of a real face (scikit-image's astronaut, scaled into
the frame) in batches of one frame per attempt, as the pipeline hands them over, and times each
batched ``detect`` call on one thread in its two regimes: a look that embeds (exam start, a face
back, every ``interval_s``) and a look that does not (the face was checked recently). Prints a
Markdown table, the steady cost of one candidate at the defaults (a look every second, an
embedding every 10 s), and the embedding distances the threshold is judged by: the same person
in other frames, other people, and scikit-image's 25x25 LFW faces (below the size gate).

    .venv/bin/python bench/detector_identity.py --batches 1 8 --rounds 40
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import sys
import threading
import time
from itertools import count
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.detectors import Frame  # noqa: E402
from plugins.detectors.identity import faces  # noqa: E402
from plugins.detectors.identity.config import IdentityConfig  # noqa: E402
from plugins.detectors.identity.detector import REFERENCE_KEY, IdentityDetector  # noqa: E402


def astronaut() -> np.ndarray:
    from skimage import data  # noqa: PLC0415

    return np.ascontiguousarray(data.astronaut())


def in_frame(rgb: np.ndarray, side: int, x: int = 0, y: int = 0) -> np.ndarray:
    height, width = rgb.shape[:2]
    scaled = np.asarray(
        Image.fromarray(rgb).resize((round(width * side / height), side), Image.BILINEAR)
    )
    frame = np.full((480, 640, 3), 90, dtype=np.uint8)
    part = scaled[: 480 - y, : 640 - x]
    frame[y : y + part.shape[0], x : x + part.shape[1]] = part
    return frame


def package_photo(package: str, *parts: str) -> np.ndarray | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        return None
    with Image.open(path) as image:
        return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def time_batches(
    detector: IdentityDetector,
    image: np.ndarray,
    reference: list[float],
    size: int,
    rounds: int,
    embed: bool,
) -> list[float]:
    """``embed``: every frame is an attempt's first (due); else attempts checked a moment ago."""
    ids = count()
    bgr = np.ascontiguousarray(image[:, :, ::-1])
    context = {REFERENCE_KEY: reference}
    steady = [f"steady{size}-{i}" for i in range(size)]
    detector.detect([Frame(a, 0.0, bgr, context) for a in steady])  # checked at t=0
    seconds: list[float] = []
    for round_ in range(rounds + 3):
        if embed:
            frames = [Frame(f"new{size}-{next(ids)}", 1.0, bgr, context) for _ in range(size)]
        else:
            frames = [Frame(a, 1.0 + round_ * 1e-3, bgr, context) for a in steady]
        started = time.perf_counter()
        found = detector.detect(frames)
        elapsed = time.perf_counter() - started
        assert len(found) == (size if embed else 0), found
        if round_ >= 3:  # warm-up
            seconds.append(elapsed)
    return seconds


def main_thread_stall(image: np.ndarray, rounds: int = 10) -> float:
    """The longest the main thread waited (ms) for the GIL while another thread embedded."""
    found = faces.find_faces(image)[:1]

    def work() -> None:
        for _ in range(rounds):
            faces.embed(image, found)

    worker = threading.Thread(target=work)
    longest, last = 0.0, time.perf_counter()
    worker.start()
    while worker.is_alive():
        time.sleep(0.001)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    return longest * 1000


def distances(reference: np.ndarray) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    face = astronaut()
    variants = {
        "astronaut, scaled into a webcam frame": in_frame(face, 480, x=60),
        "astronaut, smaller and shifted (face ~60 px)": in_frame(face, 300, x=250, y=120),
        "astronaut, brightened x1.2 + 15": np.clip(face * 1.2 + 15, 0, 255).astype(np.uint8),
        "astronaut, mirrored": np.ascontiguousarray(face[:, ::-1]),
        "astronaut, face ~40 px": in_frame(face, 200, x=200, y=100),
    }
    others = {
        "Grace Hopper (matplotlib sample)": package_photo(
            "matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg"
        ),
        "Carlo Ancelotti (ultralytics zidane.jpg)": package_photo(
            "ultralytics", "assets", "zidane.jpg"
        ),
    }
    for name, image in [*variants.items(), *others.items()]:
        if image is None:
            continue
        found = faces.find_faces(image)
        if not found:
            rows.append((name, "no face found"))
            continue
        value = faces.distance(faces.embed(image, found[:1])[0], reference)
        rows.append((name, f"{value:.3f} (face {found[0].width} px)"))
    rows.extend(lfw(reference))
    return rows


def lfw(reference: np.ndarray) -> list[tuple[str, str]]:
    """scikit-image's 100 LFW faces (25x25 grey), upscaled onto a box the embedder can take."""
    from skimage import data  # noqa: PLC0415

    def embed25(grey25: np.ndarray) -> np.ndarray:
        big = np.asarray(Image.fromarray(grey25).resize((160, 160), Image.BICUBIC))
        padded = np.pad(big, ((48, 48), (48, 48)), mode="edge")
        rgb = np.ascontiguousarray(np.repeat(padded[:, :, None], 3, axis=2))
        return faces.embed(rgb, [faces.Face(48, 48, 208, 208, 1.0)])[0]

    people = (data.lfw_subset()[:100] * 255).astype(np.uint8)
    vectors = np.array([embed25(face) for face in people])
    to_astronaut = np.linalg.norm(vectors - reference, axis=1)
    box = faces.find_faces(astronaut())[0]
    grey = np.asarray(Image.fromarray(astronaut()).convert("L"))[box.y0 : box.y1, box.x0 : box.x1]
    herself = faces.distance(embed25(np.asarray(Image.fromarray(grey).resize((25, 25)))), reference)
    pairs = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)[np.triu_indices(100, 1)]
    return [
        (
            "100 LFW faces at 25 px vs the astronaut",
            f"min {to_astronaut.min():.3f}, median {np.median(to_astronaut):.3f}, "
            f"{int((to_astronaut <= 0.6).sum())} at or below 0.6",
        ),
        ("the astronaut herself at 25 px (grey)", f"{herself:.3f}"),
        (
            "LFW pairs at 25 px (4950, identities unknown)",
            f"min {pairs.min():.3f}, median {np.median(pairs):.3f}, "
            f"{100 * (pairs <= 0.6).mean():.1f} % at or below 0.6",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    started = time.perf_counter()
    detector = IdentityDetector(IdentityConfig())
    detector.load()
    load_s = time.perf_counter() - started
    vector, _ = faces.reference_of(astronaut(), min_face_px=40)
    assert vector is not None
    reference = [float(v) for v in vector]
    frame = in_frame(astronaut(), 480, x=80)

    print(f"python {platform.python_version()}, {platform.machine()}, load {load_s:.2f} s")
    print()
    print("| look | attempts per batch | batch ms p50 / p95 | per frame ms |")
    print("|---|---|---|---|")
    per_frame: dict[bool, float] = {}
    for embed in (True, False):
        for size in args.batches:
            seconds = time_batches(detector, frame, reference, size, args.rounds, embed)
            p50, p95 = statistics.median(seconds) * 1000, percentile(seconds, 0.95) * 1000
            per_frame.setdefault(embed, p50 / size)
            label = "embeds (face due)" if embed else "looks only (checked recently)"
            print(f"| {label} | {size} | {p50:.1f} / {p95:.1f} | {p50 / size:.1f} |")
    config = IdentityConfig()
    steady = (
        per_frame[True] / config.interval_s
        + per_frame[False] * (1 / config.look_interval_s - 1 / config.interval_s)
    ) / 10  # ms per second → % of a core
    print()
    print(f"steady cost per candidate at the defaults: {steady:.2f} % of a core")
    stall = main_thread_stall(frame)
    print(f"longest main-thread stall while another thread embeds: {stall:.1f} ms")
    print()
    print("| frame | distance to the enrolled astronaut |")
    print("|---|---|")
    for name, value in distances(np.asarray(reference)):
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
