"""Gaze and head pose: is the candidate looking at the screen, and if not, which way?

mediapipe's face mesh with irises (478 points, bundled in the wheel, 2-4 ms per frame on a CPU)
runs on each frame; the largest face is measured. The head's yaw, pitch and roll come from
``cv2.solvePnP`` of eight rigid landmarks against mediapipe's canonical face model, seen through
a pinhole camera whose focal length is the image width; the iris position between the eye
corners gives where the eyes point within the head. Conventions, in degrees and from the
candidate's point of view (docs/proctoring.md has the same list):

- yaw > 0: the candidate turns to THEIR left (the nose points to the right of the unmirrored
  image); a mirrored image reads the opposite sign;
- pitch > 0: looking up; pitch < 0: looking down;
- roll > 0: the face turns counter-clockwise in the image (the head tilts toward the
  candidate's right shoulder); rotating the image counter-clockwise by θ adds about θ;
- gaze_x, gaze_y in [-1, 1]: > 0 the irises sit toward the candidate's left / higher.

Angles are measured against the line from the camera to the face, so looking into the lens
reads 0 wherever the face sits in the picture. A candidate's own neutral pose, measured while
they look at the centre of the screen during the system check, reaches each frame as
``Frame.context["gaze.baseline"]`` (hook ``invigilator_attempt_context`` below) and is
subtracted; without one the angles are judged against a typical laptop pose (the camera sits
above the screen, so looking at the screen reads a little downward). Looking down counts as
looking away: a phone on the lap is the commonest aid within reach of a candidate in front of a
camera.

Faces of many candidates are interleaved in one batch, so the mesh runs in static-image mode
(no tracking from one frame to the next, which would follow one candidate's face into another's
frame). A ``FaceMesh`` keeps graph state and is bound to its thread: one per worker thread.
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
from plugins.detectors.gaze.geometry import (
    POSE_LANDMARKS,
    Limits,
    baseline_of,
    calibrate,
    classify,
    head_pose,
    iris_gaze,
)
from plugins.detectors.shared_models import LockedModel, shared

SECTION = "detector_gaze"
NAME = "gaze"
CONTEXT_KEY = "gaze.baseline"


class GazeConfig(BaseModel):
    """``[detector_gaze]`` in plugins.toml."""

    enabled: bool = Field(True, description="Run the gaze and head-pose detector.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="mediapipe's Python face mesh runs on the CPU only: auto and cpu use it; "
        "cuda is refused when the detector loads",
    )
    min_interval_s: float = Field(
        0.5, gt=0, le=60, description="per attempt, seconds between looks"
    )
    max_faces: int = Field(
        2, ge=1, le=10, description="faces the mesh looks for; the largest one is measured"
    )
    min_confidence: float = Field(
        0.5, ge=0.0, le=1.0, description="faces the mesh's detector is less sure of are ignored"
    )
    yaw_max_deg: float = Field(
        30.0, gt=0, le=90, description="head turned further left or right than this is off-screen"
    )
    pitch_up_max_deg: float = Field(
        25.0, gt=0, le=90, description="head raised further than this is off-screen"
    )
    pitch_down_max_deg: float = Field(
        25.0, gt=0, le=90, description="head lowered further than this is off-screen (looking down)"
    )
    gaze_x_max: float = Field(
        0.25,
        gt=0,
        le=1,
        description="irises further to a side than this (0-1) are off-screen; on a real "
        "webcam recording the mesh put a look at the screen at 0.00-0.15 and a look to the "
        "side at 0.31-0.37 (docs/accuracy.md)",
    )
    gaze_up_max: float = Field(
        0.8, gt=0, le=1, description="irises higher than this are off-screen"
    )
    gaze_down_max: float = Field(
        0.6, gt=0, le=1, description="irises lower than this (0-1) are off-screen (looking down)"
    )
    uncalibrated_pitch_deg: float = Field(
        -10.0,
        ge=-45,
        le=45,
        description="pitch assumed for a candidate looking at the screen when they were not "
        "calibrated (the camera sits above a laptop's screen)",
    )

    def limits(self) -> Limits:
        return Limits(
            yaw_deg=self.yaw_max_deg,
            pitch_up_deg=self.pitch_up_max_deg,
            pitch_down_deg=self.pitch_down_max_deg,
            gaze_x=self.gaze_x_max,
            gaze_up=self.gaze_up_max,
            gaze_down=self.gaze_down_max,
        )


def _round(value: float, digits: int) -> float:
    return round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0


class GazeDetector:
    """The face mesh behind the :class:`core.detectors.Detector` protocol."""

    name = NAME

    def __init__(self, config: GazeConfig) -> None:
        self.config = config
        self.needs = DetectorNeeds(video=True, min_interval_s=config.min_interval_s)
        self.limits = config.limits()

    def _model(self) -> LockedModel:
        faces, confidence = self.config.max_faces, self.config.min_confidence

        def build() -> Any:
            import mediapipe as mp  # noqa: PLC0415 (heavy; only where a detector runs)

            return mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True,
                max_num_faces=faces,
                refine_landmarks=True,
                min_detection_confidence=confidence,
            )

        return shared(("face_mesh", faces, confidence), build)

    def load(self) -> None:
        """Build the calling thread's mesh and run it once, so a broken install fails here."""
        if self.config.device == "cuda":
            raise RuntimeError(
                "mediapipe's Python face mesh runs on the CPU only; set [detector_gaze] device "
                'to "auto" or "cpu"'
            )
        import cv2  # noqa: PLC0415, F401 (solvePnP: fail here, not on the first frame)

        self._model().process(np.zeros((64, 64, 3), dtype=np.uint8))

    def detect(self, frames: Sequence[Frame]) -> list[Observation]:
        model = self._model()
        return [self._one(model, frame) for frame in frames]

    def landmarks(self, model: Any, image: np.ndarray) -> np.ndarray | None:
        """The largest face's mesh, shape ``(478, 3)``, or None without a face.

        x and y are pixels; z is mediapipe's relative depth on the scale of x (smaller is
        nearer the camera), used only by tests that turn a real face in 3D.
        """
        height, width = image.shape[:2]
        rgb = np.ascontiguousarray(image[:, :, ::-1])  # the model wants RGB
        result = model.process(rgb)
        best: np.ndarray | None = None
        best_area = -1.0
        for face in result.multi_face_landmarks or ():
            points = np.array([(p.x * width, p.y * height, p.z * width) for p in face.landmark])
            span = points[:, :2].max(axis=0) - points[:, :2].min(axis=0)
            area = float(span[0] * span[1])
            if area > best_area:
                best, best_area = points, area
        return best

    def _one(self, model: Any, frame: Frame) -> Observation:
        points = self.landmarks(model, frame.image)
        return Observation(
            attempt_id=frame.attempt_id,
            ts=frame.ts,
            detector=self.name,
            values=values(points, frame.image, frame.context, self.config, self.limits),
        )


def values(
    points: np.ndarray | None,
    image: np.ndarray,
    context: Mapping[str, Any],
    config: GazeConfig,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """What one frame showed: ``face``, the angles, the gaze, ``off_screen``, ``direction``
    and whether a baseline was applied (``calibrated``).

    Calibrated, the angles and gaze are reported relative to the candidate's baseline.
    Uncalibrated, they are reported as measured (the calibration endpoint takes its baseline
    from exactly these) and judged against a typical laptop pose. Without a usable face the
    angles are None, ``off_screen`` is false and ``direction`` None: the face rules speak then.
    """
    baseline = baseline_of(context)
    out: dict[str, Any] = {
        "face": points is not None,
        "yaw": None,
        "pitch": None,
        "roll": None,
        "gaze_x": None,
        "gaze_y": None,
        "off_screen": False,
        "direction": None,
        "calibrated": baseline is not None,
    }
    if points is None:
        return out
    points = points[:, :2]
    height, width = image.shape[:2]
    measured = head_pose(points[list(POSE_LANDMARKS)], width, height)
    eyes = iris_gaze(points)
    if measured is None or eyes is None:
        return out
    typical = {"yaw": 0.0, "pitch": config.uncalibrated_pitch_deg, "gaze_x": 0.0, "gaze_y": 0.0}
    pose, gaze = calibrate(measured, eyes, baseline)
    judged_pose, judged_gaze = (pose, gaze) if baseline else calibrate(measured, eyes, typical)
    off_screen, direction = classify(
        judged_pose.yaw, judged_pose.pitch, *judged_gaze, limits or config.limits()
    )
    out.update(
        yaw=_round(pose.yaw, 1),
        pitch=_round(pose.pitch, 1),
        roll=_round(pose.roll, 1),
        gaze_x=_round(gaze[0], 2),
        gaze_y=_round(gaze[1], 2),
        off_screen=off_screen,
        direction=direction,
    )
    return out


GAZE_AWAY = Rule(
    kind="gaze_away",
    detector=NAME,
    label="Looking away",
    shape="state",
    sources=(f"observation.{NAME}",),
    when=Condition(field="off_screen", value=True),
    min_duration_s=4,
    gap_s=1.5,
    severity="medium",
    weight=5,
    per_minute=10,
    max_points=30,
)
# Looking down is also looking away; this rule adds to it because a phone on the lap is the
# commonest aid, and names it on the wall so a proctor knows what to look for.
LOOKING_DOWN = Rule(
    kind="looking_down",
    detector=NAME,
    label="Looking down",
    shape="state",
    sources=(f"observation.{NAME}",),
    when=Condition(field="direction", value="down"),
    min_duration_s=4,
    gap_s=1.5,
    severity="medium",
    weight=3,
    per_minute=5,
    max_points=20,
)


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {SECTION: GazeConfig}


@hookimpl
def invigilator_register_detectors(services: Services) -> Iterable[GazeDetector]:
    config = services.section(SECTION, GazeConfig)
    return [GazeDetector(config)] if config.enabled else []


@hookimpl
def invigilator_register_rules() -> list[Rule]:
    """Looking away (any direction) and looking down, both switched off by exempting "gaze"."""
    return [GAZE_AWAY, LOOKING_DOWN]


@hookimpl
async def invigilator_attempt_context(
    services: Services, attempt_id: str, exam_id: int, user_id: int
) -> dict[str, Any] | None:
    """The candidate's gaze calibration for this exam, measured during the system check."""
    from plugins.proctoring.calibration import load_baseline  # noqa: PLC0415 (plugin order)

    if not services.section(SECTION, GazeConfig).enabled:
        return None
    baseline = await load_baseline(services, exam_id, user_id)
    return {CONTEXT_KEY: baseline} if baseline is not None else None
