"""Objects in view: phones, books, laptops and people, counted by an Ultralytics YOLO model.

No Python package ships COCO detector weights and nothing is downloaded while the server runs,
so the weights are a model of the ``[models]`` registry that an operator fetched with
``invigilator models pull yolov8n`` (checked against a pinned SHA-256), or a path to their own
file. Without them ``load()`` fails with the command that fixes it, the detector is listed as
failed with that reason and every other detector still runs.

Frames of every due attempt go to the model in one call: Ultralytics letterboxes each image to
``input_size`` and runs them as one batch, so the per-call cost is paid once per batch. Only
the configured classes are kept (the model's class filter runs before non-maximum suppression);
each becomes a count in the observation (``phones``, ``persons``...) plus its boxes. People
are counted by their bodies, so a second person whose face the camera never sees still counts,
which the face detector cannot do.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator

from core.detectors import DetectorNeeds, Frame, Observation
from core.hookspecs import hookimpl
from core.policy import Condition, Rule
from core.services import Services
from plugins.models.registry import SECTION as MODELS_SECTION
from plugins.models.registry import ModelsConfig, resolve_weights

log = logging.getLogger(__name__)

SECTION = "detector_objects"
NAME = "objects"
SOURCE = f"observation.{NAME}"

# Ultralytics reads these when it is first imported: no hub, no analytics, no pip installs, no
# downloads of fonts or assets, and quiet per-frame logging.
OFFLINE_ENVIRONMENT = {
    "YOLO_OFFLINE": "1",
    "YOLO_AUTOINSTALL": "false",
    "YOLO_VERBOSE": "false",
    "ULTRALYTICS_SKIP_REQUIREMENTS_CHECKS": "1",
}

DEFAULT_CLASSES = {
    "cell phone": "phones",
    "book": "books",
    "laptop": "laptops",
    "person": "persons",
}


def ultralytics_offline(config_dir: Path) -> None:
    """Point Ultralytics at ``config_dir`` for its settings file and keep it offline.

    Must run before ``ultralytics`` is first imported; values already set by the operator win.
    """
    for key, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    if "YOLO_CONFIG_DIR" not in os.environ:
        config_dir.mkdir(parents=True, exist_ok=True)
        os.environ["YOLO_CONFIG_DIR"] = str(config_dir)


class ObjectsConfig(BaseModel):
    """``[detector_objects]`` in plugins.toml."""

    enabled: bool = Field(True, description="Run the object detector (it needs YOLO weights).")
    weights: str = Field(
        "yolov8n",
        min_length=1,
        description="A model of [models.registry] (fetch it with `invigilator models pull`) "
        "or a path to a YOLO .pt file (relative paths are in the models folder)",
    )
    classes: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_CLASSES),
        description="Model class name -> count name in the observation; other classes are "
        "ignored. Rules read phones, books and persons",
    )
    min_confidence: float = Field(
        0.35, ge=0.01, le=1.0, description="objects the model is less sure of are ignored"
    )
    overlap_iou: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="two boxes of one class overlapping more than this (IoU) are one object: "
        "lower than Ultralytics' 0.7, so one phone seen twice is not counted as two",
    )
    input_size: int = Field(
        640,
        ge=160,
        le=1280,
        description="pixels the longer side is scaled to (multiple of 32): 640 finds a phone "
        "across a room, 320 costs about a quarter as much",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="auto: CUDA when torch sees a GPU, else the CPU"
    )
    interval_s: float = Field(1.0, gt=0, le=60, description="per attempt, seconds between looks")
    safe_load: bool = Field(
        True,
        description="Refuse weights that reference anything beyond the classes Ultralytics "
        "and torch ship (torch weights_only); off only for a trusted checkpoint",
    )

    @field_validator("input_size")
    @classmethod
    def _stride(cls, value: int) -> int:
        if value % 32:
            raise ValueError("input_size must be a multiple of 32 (320, 640...)")
        return value

    @field_validator("classes")
    @classmethod
    def _some_classes(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("name at least one class")
        for key in value.values():
            if not key.isidentifier():
                raise ValueError(f"count name {key!r}: use letters, digits and _")
        return value


class ObjectsDetector:
    """A YOLO model behind the :class:`core.detectors.Detector` protocol."""

    name = NAME

    def __init__(
        self, config: ObjectsConfig, models: ModelsConfig | None = None, data_dir: Path = Path()
    ) -> None:
        self.config = config
        self.models = models or ModelsConfig()
        self.data_dir = Path(data_dir)
        self.needs = DetectorNeeds(video=True, min_interval_s=config.interval_s)
        self._model: Any = None
        self._device = "cpu"
        self._keys: dict[int, str] = {}  # model class id -> count name, for the configured ones
        self.weights_path: Path | None = None

    def load(self) -> None:
        """Find and check the weights, build the model and run it once."""
        path = resolve_weights(self.config.weights, self.models, self.data_dir)
        ultralytics_offline(self.models.path(self.data_dir) / ".ultralytics")
        import torch  # noqa: PLC0415 (heavy; only where a detector runs)

        device = self.config.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        elif device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("device = 'cuda' but torch sees no CUDA GPU; use 'auto' or 'cpu'")
        if self.config.safe_load:
            from ultralytics.nn.tasks import torch_safe_load  # noqa: PLC0415

            try:
                torch_safe_load(str(path), safe_only=True)  # type: ignore[no-untyped-call]
            except TypeError as error:
                raise RuntimeError(
                    f"{path} is not a plain Ultralytics checkpoint (safe_load refused it): "
                    f"{str(error).splitlines()[0]}"
                ) from error
        from ultralytics.models.yolo.model import YOLO  # noqa: PLC0415

        model = YOLO(str(path), task="detect")
        names: Mapping[int, str] = model.names
        wanted = self.config.classes
        self._keys = {index: wanted[label] for index, label in names.items() if label in wanted}
        if not self._keys:
            raise RuntimeError(
                f"{path.name} knows none of the configured classes ({', '.join(wanted)}); it "
                f"detects: {', '.join(list(names.values())[:20])}"
            )
        missing = sorted(set(wanted) - {names[index] for index in self._keys})
        if missing:
            log.warning("objects: %s has no class %s; not counted", path.name, ", ".join(missing))
        self._model = model
        self._device = device
        self.needs = DetectorNeeds(
            video=True,
            min_interval_s=self.config.interval_s,
            device="gpu" if device == "cuda" else "cpu",
        )
        self.weights_path = path
        self._predict([np.zeros((self.config.input_size, self.config.input_size, 3), np.uint8)])

    def _predict(self, images: list[np.ndarray]) -> list[Any]:
        return list(
            self._model.predict(
                images,  # BGR, as Ultralytics expects from numpy
                imgsz=self.config.input_size,
                conf=self.config.min_confidence,
                iou=self.config.overlap_iou,
                classes=sorted(self._keys),
                device=self._device,
                verbose=False,
            )
        )

    def detect(self, frames: Sequence[Frame]) -> list[Observation]:
        if not frames:
            return []
        if self._model is None:
            raise RuntimeError("the objects detector is not loaded")
        results = self._predict([frame.image for frame in frames])
        pairs = zip(frames, results, strict=True)
        return [self._observation(frame, result) for frame, result in pairs]

    def _observation(self, frame: Frame, result: Any) -> Observation:
        counts = dict.fromkeys(self._keys.values(), 0)
        boxes: list[list[Any]] = []
        scores: list[float] = []
        found = result.boxes
        if found is not None and len(found):
            classes = found.cls.cpu().numpy().astype(int)
            confidences = found.conf.cpu().numpy()
            xywhn = found.xywhn.cpu().numpy()
            for index, confidence, (cx, cy, w, h) in zip(classes, confidences, xywhn, strict=True):
                key = self._keys.get(int(index))
                if key is None:
                    continue
                counts[key] += 1
                scores.append(float(confidence))
                box = [float(cx - w / 2), float(cy - h / 2), float(w), float(h)]
                boxes.append([key, round(float(confidence), 4), *(round(v, 4) for v in box)])
        return Observation(
            attempt_id=frame.attempt_id,
            ts=frame.ts,
            detector=self.name,
            values={**counts, "boxes": boxes},
            # How sure we are of the counts: the weakest object found, or 1.0 for "nothing".
            confidence=round(min(scores, default=1.0), 4),
        )


def _rule(kind: str, label: str, field: str, at_least: int, **rest: Any) -> Rule:
    return Rule(
        kind=kind,
        detector=NAME,
        label=label,
        shape="state",
        sources=(SOURCE,),
        when=Condition(field=field, op="ge", value=at_least),
        stale_s=10.0,  # YOLO on a busy CPU may look at an attempt only every few seconds
        **rest,
    )


PHONE_VISIBLE = _rule(
    "phone_visible",
    "Phone",
    "phones",
    1,
    min_duration_s=1,
    gap_s=2,
    severity="high",
    weight=20,
    per_minute=10,
    max_points=50,
)
BOOK_VISIBLE = _rule(
    "book_visible",
    "Book or notes",
    "books",
    1,
    min_duration_s=3,
    gap_s=2,
    severity="low",
    weight=2,
    per_minute=2,
    max_points=10,
)
EXTRA_PERSON = _rule(
    "extra_person", "Another person", "persons", 2,
    min_duration_s=2, gap_s=2, severity="high", weight=15, per_minute=20, max_points=50,
)  # fmt: skip


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {SECTION: ObjectsConfig}


@hookimpl
def invigilator_register_rules() -> list[Rule]:
    """A phone, a book and a second person in view; exempting "objects" switches all three off."""
    return [PHONE_VISIBLE, BOOK_VISIBLE, EXTRA_PERSON]


@hookimpl
def invigilator_register_detectors(services: Services) -> Iterable[ObjectsDetector]:
    config = services.section(SECTION, ObjectsConfig)
    if not config.enabled:
        return []
    models = services.sections.get(MODELS_SECTION)
    return [
        ObjectsDetector(
            config,
            models if isinstance(models, ModelsConfig) else ModelsConfig(),
            services.settings.data_dir,
        )
    ]
