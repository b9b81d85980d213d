"""A phone detector the test suite trains itself, on pictures it generates.

No package ships COCO weights and nothing may be downloaded, so the phone path is tested with a
real YOLO model trained here: the ``yolov8n`` architecture at a narrow width (about 0.9 M
parameters), one class named ``cell phone`` like COCO's, trained from scratch for a few
hundred small batches on 160-pixel crops of real photographs with rendered phones pasted in (a
dark rounded body, a lit screen with a few app tiles, upright or sideways, 20-60 % of the
picture). The training loop is Ultralytics' own detection model and loss with a plain optimiser:
no dataset files, augmentation pipeline, validation or plots, which is what makes it fit the
test budget on a CPU. Everything is seeded, so a run gives the same model.

Photographs: ``coffee``, ``rocket``, ``astronaut`` and ``camera`` are backgrounds for training;
``chelsea`` is kept out so tests can place a phone on a scene the model has never seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from plugins.detectors.objects.plugin import ultralytics_offline

CLASS_NAME = "cell phone"
IMAGE_SIZE = 160
STEPS = 320  # 200 left a stray box on one photograph with some CPUs' arithmetic
BATCH = 16
TRAIN_PHOTOS = ("coffee", "rocket", "astronaut", "camera")
HELD_OUT_PHOTO = "chelsea"


def photo(name: str) -> np.ndarray:
    """A scikit-image photograph as RGB uint8."""
    from skimage import data  # noqa: PLC0415

    image = getattr(data, name)()
    return np.ascontiguousarray(np.dstack([image] * 3) if image.ndim == 2 else image[:, :, :3])


@dataclass(frozen=True)
class Box:
    """A pasted phone, relative to the picture: top-left corner and size."""

    x: float
    y: float
    w: float
    h: float

    def centre_xywh(self) -> list[float]:
        return [self.x + self.w / 2, self.y + self.h / 2, self.w, self.h]

    def iou(self, other: list[float]) -> float:
        """Overlap with ``[x, y, w, h]`` (top-left corner, relative)."""
        ox, oy, ow, oh = other
        ix = max(0.0, min(self.x + self.w, ox + ow) - max(self.x, ox))
        iy = max(0.0, min(self.y + self.h, oy + oh) - max(self.y, oy))
        inter = ix * iy
        return inter / (self.w * self.h + ow * oh - inter)


def crop(rng: np.random.Generator, image: np.ndarray, size: int) -> np.ndarray:
    """A random square part (a third of the short side or more) of ``image``, resized."""
    import cv2  # noqa: PLC0415

    height, width = image.shape[:2]
    side = int(rng.integers(min(height, width) // 3, min(height, width) + 1))
    top = int(rng.integers(0, height - side + 1))
    left = int(rng.integers(0, width - side + 1))
    part = np.ascontiguousarray(image[top : top + side, left : left + side])
    return cv2.resize(part, (size, size), interpolation=cv2.INTER_AREA)


def paste_phone(
    rng: np.random.Generator, image: np.ndarray, scale: tuple[float, float] = (0.2, 0.6)
) -> Box:
    """Draw a phone into ``image`` (in place) and return where it is."""
    import cv2  # noqa: PLC0415

    height, width = image.shape[:2]
    long_side = int(rng.uniform(*scale) * min(height, width))
    short_side = max(4, int(long_side * rng.uniform(0.45, 0.6)))
    h, w = (long_side, short_side) if rng.random() < 0.7 else (short_side, long_side)
    x = int(rng.integers(0, width - w + 1))
    y = int(rng.integers(0, height - h + 1))
    body = tuple(int(v) for v in rng.integers(10, 50, 3))
    radius = max(2, min(h, w) // 6)
    cv2.rectangle(image, (x + radius, y), (x + w - radius - 1, y + h - 1), body, -1)
    cv2.rectangle(image, (x, y + radius), (x + w - 1, y + h - radius - 1), body, -1)
    for cx, cy in ((x + radius, y + radius), (x + w - radius - 1, y + radius)):
        cv2.circle(image, (cx, cy), radius, body, -1)
        cv2.circle(image, (cx, cy + h - 2 * radius - 1), radius, body, -1)
    margin = max(1, min(h, w) // 10)
    bezel = 2 * margin if h >= w else margin
    side = margin if h >= w else 2 * margin
    screen = (x + side, y + bezel, x + w - side - 1, y + h - bezel - 1)
    lit = tuple(int(v) for v in rng.integers(150, 256, 3))
    cv2.rectangle(image, screen[:2], screen[2:], lit, -1)
    tile = max(2, (screen[2] - screen[0]) // 5)
    for _ in range(int(rng.integers(0, 6))):  # app icons
        tx = int(rng.integers(screen[0], max(screen[0] + 1, screen[2] - tile)))
        ty = int(rng.integers(screen[1], max(screen[1] + 1, screen[3] - tile)))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.rectangle(image, (tx, ty), (tx + tile - 1, ty + tile - 1), colour, -1)
    return Box(x / width, y / height, w / width, h / height)


def scene(
    rng: np.random.Generator, photos: list[np.ndarray], size: int, phones: int
) -> tuple[np.ndarray, list[Box]]:
    """A crop of one of ``photos`` with ``phones`` phones pasted in (RGB)."""
    image = crop(rng, photos[int(rng.integers(len(photos)))], size)
    return image, [paste_phone(rng, image) for _ in range(phones)]


def train_phone_model(
    target: Path,
    *,
    steps: int = STEPS,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Train the model and save it as an Ultralytics checkpoint at ``target``."""
    ultralytics_offline(target.parent / ".ultralytics")  # before Ultralytics is imported
    import torch  # noqa: PLC0415
    from ultralytics.nn.tasks import DetectionModel, yaml_model_load  # noqa: PLC0415

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    photos = [photo(name) for name in TRAIN_PHOTOS]
    architecture = yaml_model_load("yolov8n.yaml")  # type: ignore[no-untyped-call]
    architecture["scales"] = {"n": [0.33, 0.125, 1024]}  # yolov8n's depth, an eighth of its width
    architecture["scale"] = "n"
    model: Any = DetectionModel(architecture, nc=1, verbose=False)  # type: ignore[no-untyped-call]
    model.args = _LossGains()
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    warmup = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: min(1.0, (step + 1) / 15))
    model.train()
    threads = torch.get_num_threads()
    # One thread: on a shared machine two OpenMP threads wait for each other (steps 10x slower).
    torch.set_num_threads(1)
    try:
        _train(model, optimiser, warmup, rng, photos, steps, log)
    finally:
        torch.set_num_threads(threads)
    model.eval()
    model.criterion = None  # holds the loss gains; not part of a checkpoint
    del model.args
    model.names = {0: CLASS_NAME}
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model, "train_args": {"imgsz": IMAGE_SIZE, "task": "detect"}}, target)
    if log is not None:
        log(f"trained {steps} steps in {time.perf_counter() - started:.1f} s")
    return target


def _train(
    model: Any,
    optimiser: Any,
    warmup: Any,
    rng: np.random.Generator,
    photos: list[np.ndarray],
    steps: int,
    log: Callable[[str], None] | None,
) -> None:
    for step in range(steps):
        loss, _ = model.loss(_batch(rng, photos))
        total = loss.sum()
        optimiser.zero_grad()
        total.backward()
        optimiser.step()
        warmup.step()
        if log is not None and step % 50 == 0:
            log(f"step {step}: loss {float(total.detach()):.1f}")


class _LossGains:
    """What Ultralytics' detection loss reads from ``model.args`` (its default gains)."""

    box = 7.5
    cls = 0.5
    dfl = 1.5


def _batch(rng: np.random.Generator, photos: list[np.ndarray]) -> dict[str, Any]:
    import torch as t  # noqa: PLC0415

    images: list[np.ndarray] = []
    index: list[float] = []
    boxes: list[list[float]] = []
    for i in range(BATCH):
        image, found = scene(rng, photos, IMAGE_SIZE, int(rng.choice([0, 1, 1, 2])))
        images.append(image)
        for box in found:
            index.append(float(i))
            boxes.append(box.centre_xywh())
    pixels = t.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
    return {
        "img": pixels,
        "batch_idx": t.tensor(index, dtype=t.float32),
        "cls": t.zeros((len(boxes), 1), dtype=t.float32),
        "bboxes": t.tensor(boxes, dtype=t.float32).reshape(-1, 4),
    }


if __name__ == "__main__":  # pragma: no cover - a manual run: time the training here
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        train_phone_model(Path(folder) / "phone.pt", log=lambda line: print(line, file=sys.stderr))
