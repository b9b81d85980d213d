"""A person in view, with how much of their body the camera sees, from mediapipe Pose.

BlazePose (model complexity 1) ships inside the mediapipe wheel, so this detector works with no
weights to fetch. Its limits decide what it is for (docs/models.md):

- it follows **one** person: the most prominent body, never a count;
- it finds a person **through their head** (the pose detector's first stage is a face-based
  person detector), so a body whose face is hidden or turned away is not found.

So it tells "somebody is sitting there" (``bodies`` 1) from "the seat is empty" (``bodies``
0) and how much of the body is in view (``visibility``, the mean of the 33 landmarks'
visibility). Counting people, including those whose faces the camera never sees, is the
objects detector's job (YOLO ``person``, rule ``extra_person``), which needs COCO weights.

Frames of many candidates are interleaved in one batch, so Pose runs in static-image mode: in
tracking mode it follows one candidate's landmarks into another's frame (and into an empty
scene). A ``Pose`` keeps graph state and is bound to its thread: one per worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from core.detectors import DetectorNeeds, Frame, Observation
from core.hookspecs import hookimpl
from core.policy import Condition, Rule
from core.services import Services
from plugins.detectors.shared_models import LockedModel, shared

SECTION = "detector_person"
NAME = "person"


class PersonConfig(BaseModel):
    """``[detector_person]`` in plugins.toml."""

    enabled: bool = Field(True, description="Run the body (pose) detector.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="mediapipe's Python pose runs on the CPU only: auto and cpu use it; cuda is "
        "refused when the detector loads",
    )
    min_confidence: float = Field(
        0.5, ge=0.0, le=1.0, description="people the pose detector is less sure of are ignored"
    )
    min_visibility: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="a landmark at least this visible counts toward the body's box",
    )
    interval_s: float = Field(
        2.0, gt=0, le=60, description="per attempt, seconds between looks (pose costs 15-40 ms)"
    )


class PersonDetector:
    """mediapipe Pose behind the :class:`core.detectors.Detector` protocol."""

    name = NAME

    def __init__(self, config: PersonConfig) -> None:
        self.config = config
        self.needs = DetectorNeeds(video=True, min_interval_s=config.interval_s)

    def _model(self) -> LockedModel:
        confidence = self.config.min_confidence

        def build() -> Any:
            import mediapipe as mp  # noqa: PLC0415 (heavy; only where a detector runs)

            return mp.solutions.pose.Pose(
                static_image_mode=True,
                model_complexity=1,  # the only pose model the wheel bundles
                enable_segmentation=False,
                min_detection_confidence=confidence,
            )

        return shared(("pose", confidence), build)

    def load(self) -> None:
        """Build the calling thread's model and run it once, so a broken install fails here."""
        if self.config.device == "cuda":
            raise RuntimeError("mediapipe's pose runs on the CPU only; set device to auto or cpu")
        self._model().process(np.zeros((64, 64, 3), dtype=np.uint8))

    def detect(self, frames: Sequence[Frame]) -> list[Observation]:
        model = self._model()
        return [self._one(model, frame) for frame in frames]

    def _one(self, model: Any, frame: Frame) -> Observation:
        rgb = np.ascontiguousarray(frame.image[:, :, ::-1])  # the model wants RGB
        result = model.process(rgb)
        values: dict[str, Any] = {"bodies": 0, "visibility": 0.0, "box": None}
        confidence = 1.0  # "nobody": as sure as the detector can be
        if result.pose_landmarks is not None:
            points = np.array(
                [(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark], dtype=float
            )
            visibility = float(points[:, 2].mean())
            seen = points[points[:, 2] >= self.config.min_visibility, :2].clip(0.0, 1.0)
            box = None
            if len(seen):
                (left, top), (right, bottom) = seen.min(axis=0), seen.max(axis=0)
                box = [round(float(v), 4) for v in (left, top, right - left, bottom - top)]
            values = {"bodies": 1, "visibility": round(visibility, 4), "box": box}
            shoulders = points[11:13, 2]  # a body, not just a head: how sure of the shoulders
            confidence = round(float(shoulders.max()), 4)
        return Observation(
            attempt_id=frame.attempt_id,
            ts=frame.ts,
            detector=self.name,
            values=values,
            confidence=confidence,
        )


# Off by default: pose finds a person through their head, so an empty seat is also "no face",
# which the face detector's no_face already scores. Examiners who want the wall to say "nobody
# in view" separately switch it on per exam.
NO_PERSON = Rule(
    kind="no_person",
    detector=NAME,
    label="Nobody in view",
    shape="state",
    sources=(f"observation.{NAME}",),
    when=Condition(field="bodies", value=0),
    min_duration_s=10,
    gap_s=3,
    stale_s=10.0,
    severity="medium",
    weight=5,
    per_minute=10,
    max_points=30,
    enabled=False,
)


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {SECTION: PersonConfig}


@hookimpl
def invigilator_register_rules() -> list[Rule]:
    return [NO_PERSON]


@hookimpl
def invigilator_register_detectors(services: Services) -> Iterable[PersonDetector]:
    config = services.section(SECTION, PersonConfig)
    return [PersonDetector(config)] if config.enabled else []
