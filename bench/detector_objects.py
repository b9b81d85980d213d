"""CPU cost of the objects detector (YOLO) per frame, at 320 and 640 pixels, alone and batched.

No COCO weights may be fetched here, so the model is the ``yolov8n`` architecture with 80 COCO
classes built from Ultralytics' own yaml (untrained): the same layers, and so the same
arithmetic, as the published ``yolov8n.pt``. An untrained head scores almost nothing above the
confidence threshold, so non-maximum suppression costs a little less than with real weights and
a busy scene. Frames are 640x480 photographs (the astronaut pasted onto the café table), handed
over exactly as the pipeline does: one ``detect`` call per batch, one frame per attempt.

    .venv/bin/python bench/detector_objects.py --sizes 320 640 --batches 1 8 --rounds 20
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.detectors import Frame  # noqa: E402
from plugins.detectors.objects.plugin import (  # noqa: E402
    ObjectsConfig,
    ObjectsDetector,
    ultralytics_offline,
)
from plugins.models.registry import ModelsConfig  # noqa: E402


def frame() -> np.ndarray:
    """640x480 BGR: a person at a table."""
    import cv2  # noqa: PLC0415
    from skimage import data  # noqa: PLC0415

    room = cv2.resize(data.coffee(), (640, 480))
    room[200:480, 200:480] = cv2.resize(data.astronaut(), (280, 280))
    return np.ascontiguousarray(room[:, :, ::-1])


def coco_yolov8n(folder: Path) -> Path:
    """yolov8n with COCO's 80 class names and untrained weights, saved as a checkpoint."""
    ultralytics_offline(folder / ".ultralytics")
    import torch  # noqa: PLC0415
    from ultralytics.nn.tasks import DetectionModel  # noqa: PLC0415
    from ultralytics.utils import ROOT as ULTRALYTICS  # noqa: PLC0415
    from ultralytics.utils import YAML  # noqa: PLC0415

    names = YAML.load(ULTRALYTICS / "cfg" / "datasets" / "coco.yaml")["names"]
    model = DetectionModel("yolov8n.yaml", nc=len(names), verbose=False).eval()
    model.names = dict(names)
    path = folder / "yolov8n-architecture.pt"
    torch.save({"model": model, "train_args": {"task": "detect"}}, path)
    return path


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[320, 640])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=20, help="batches timed per setting")
    args = parser.parse_args()

    import torch  # noqa: PLC0415

    image = frame()
    with tempfile.TemporaryDirectory() as folder:
        weights = coco_yolov8n(Path(folder))
        print(
            f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads)\n"
        )
        print("| input | attempts per batch | batch ms p50 / p95 | per frame ms | load ms |")
        print("|---|---|---|---|---|")
        for size in args.sizes:
            config = ObjectsConfig(weights=str(weights), input_size=size, device="cpu")
            detector = ObjectsDetector(config, ModelsConfig(), Path(folder))
            started = time.perf_counter()
            detector.load()
            load_ms = (time.perf_counter() - started) * 1000
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
                    f"| {size} | {batch} | {p50:.1f} / {percentile(times, 0.95):.1f} "
                    f"| {p50 / batch:.1f} | {load_ms:.0f} |"
                )


if __name__ == "__main__":
    main()
