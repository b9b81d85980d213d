"""Pure geometry of the gaze detector: head pose, iris gaze, calibration and the verdict.

Everything here takes landmark arrays or numbers and returns numbers, so the conventions are
tested on constructed inputs (a known 3D rotation projected through the same pinhole camera)
as well as on photographs, and the classification is tested on angles without any model.

Conventions (docs/proctoring.md repeats them), all from the candidate's point of view, for an
unmirrored camera image:

- ``yaw`` (degrees) > 0: the candidate turns their head to THEIR left (the nose points toward
  the right edge of the image); mirroring the image negates it.
- ``pitch`` (degrees) > 0: the candidate looks up; < 0: looks down (chin toward the chest).
- ``roll`` (degrees) > 0: the head tilts toward the candidate's right shoulder, i.e. the face
  turns counter-clockwise as seen in the image; rotating the image counter-clockwise by θ
  (``cv2.getRotationMatrix2D`` with a positive angle) adds θ; mirroring negates it.
- ``gaze_x`` in [-1, 1] > 0: the irises sit toward the candidate's left (image right) between
  the eye corners; ±1 is the iris at the end of its travel.
- ``gaze_y`` in [-1, 1] > 0: the irises sit higher than at rest, < 0 lower (looking down).

A frontal face in the middle of the image reads yaw = pitch = roll = 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Direction = Literal["center", "left", "right", "up", "down"]

# Points of mediapipe's canonical face model (modules/face_geometry/data/canonical_face_model.obj,
# centimetres, y up, z toward the viewer) for the mesh indices used by solvePnP, turned into the
# camera's axes (x to the image's right, y down, z away from the camera) so that a frontal face
# has the identity rotation. Eye corners, mouth corners, nose tip and chin: rigid points that
# expressions move least, spread in all three dimensions.
_CANONICAL: dict[int, tuple[float, float, float]] = {
    33: (-4.445859, 2.663991, 3.173422),  # the candidate's right eye, outer corner
    133: (-1.856432, 2.585245, 3.757904),  # right eye, inner corner
    362: (1.856432, 2.585245, 3.757904),  # left eye, inner corner
    263: (4.445859, 2.663991, 3.173422),  # left eye, outer corner
    61: (-2.456206, -4.342621, 4.283884),  # mouth, right corner
    291: (2.456206, -4.342621, 4.283884),  # mouth, left corner
    1: (0.0, -1.126865, 7.475604),  # nose tip
    152: (0.0, -9.403378, 4.264492),  # chin
}
POSE_LANDMARKS: tuple[int, ...] = tuple(_CANONICAL)
MODEL_POINTS = np.array([(x, -y, -z) for x, y, z in _CANONICAL.values()], dtype=np.float64)

# Per eye: iris centre, the corner on the image's left, the corner on the image's right.
# (The mesh labels eyes anatomically: 468 is the candidate's right eye, seen on the image left.)
EYES: tuple[tuple[int, int, int], ...] = ((468, 33, 133), (473, 362, 263))
IRIS_LANDMARKS = 478  # a mesh with refine_landmarks=True; 468 without irises

# How far the iris centre travels from the middle of the eye, as a share of the eye's width:
# the scale that maps the iris position to [-1, 1]. At rest the iris centre sits slightly above
# the line between the corners (measured on frontal photographs): that is gaze_y = 0.
IRIS_TRAVEL_X = 0.25
IRIS_TRAVEL_Y = 0.12
IRIS_REST_Y = 0.05


@dataclass(frozen=True)
class Pose:
    """Head orientation in degrees (see the module docstring for the signs)."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class Limits:
    """Beyond these (after calibration) the candidate looks away from the screen."""

    yaw_deg: float = 30.0
    pitch_up_deg: float = 25.0
    pitch_down_deg: float = 25.0
    gaze_x: float = 0.25
    gaze_up: float = 0.8
    gaze_down: float = 0.6


def camera_matrix(width: int, height: int) -> np.ndarray:
    """A pinhole camera with the focal length ≈ the image width (a ~53° webcam field of view)."""
    focal = float(width)
    return np.array(
        [[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]],
        dtype=np.float64,
    )


def angles(rotation: np.ndarray) -> Pose:
    """Yaw, pitch and roll of a model-to-camera rotation matrix, as R = Ry(yaw)·Rx(pitch)·Rz(roll).

    Yaw and pitch come from where the nose points (the model's -z axis in camera space); roll
    from the face's own x and y axes, so it is not disturbed by yaw and barely by pitch.
    """
    forward = -rotation[:, 2]
    yaw = math.degrees(math.atan2(forward[0], -forward[2]))
    pitch = math.degrees(math.atan2(-forward[1], math.hypot(forward[0], forward[2])))
    roll = math.degrees(math.atan2(-rotation[1, 0], rotation[1, 1]))
    return Pose(yaw=yaw, pitch=pitch, roll=roll)


def toward_camera(translation: np.ndarray) -> np.ndarray:
    """The rotation whose z axis is the ray from the camera to the face (x stays horizontal).

    Angles are measured against this ray rather than the camera's optical axis, so a face that
    looks straight into the lens reads yaw = pitch = 0 wherever it sits in the picture: where a
    laptop's lid happens to point the camera must not make a candidate look up or down.
    """
    ray = np.asarray(translation, dtype=np.float64).reshape(3)
    ray = ray / np.linalg.norm(ray)
    side = np.cross(np.array([0.0, 1.0, 0.0]), ray)
    side = side / np.linalg.norm(side)
    return np.column_stack([side, np.cross(ray, side), ray])


def head_pose(points: np.ndarray, width: int, height: int) -> Pose | None:
    """The pose from the pixel positions of ``POSE_LANDMARKS`` (shape ``(8, 2)``), or None.

    SQPnP finds the global optimum without an initial guess (the iterative solver can settle in
    a mirror-image local minimum on a frontal face).
    """
    import cv2  # noqa: PLC0415 (heavy; only where a detector runs)

    image_points = np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 1, 2)
    try:
        ok, rvec, tvec = cv2.solvePnP(
            MODEL_POINTS,
            image_points,
            camera_matrix(width, height),
            None,
            flags=cv2.SOLVEPNP_SQPNP,
        )
    except cv2.error:  # degenerate points (all on one spot)
        return None
    if not ok or float(tvec[2, 0]) <= 0:  # behind the camera: not a face
        return None
    rotation, _ = cv2.Rodrigues(rvec)
    pose = angles(toward_camera(tvec).T @ rotation)
    if not all(math.isfinite(v) for v in (pose.yaw, pose.pitch, pose.roll)):
        return None
    return pose


def iris_gaze(landmarks: np.ndarray) -> tuple[float, float] | None:
    """(gaze_x, gaze_y) in [-1, 1] from a 478-point mesh in pixels; None without irises.

    Each iris centre is placed in its eye's own frame (along the corner-to-corner line, and
    perpendicular to it), divided by the eye's width so distance to the camera cancels, and the
    two eyes are averaged weighted by their width: with the head turned, the far eye is
    foreshortened and its iris least reliable.
    """
    if landmarks.shape[0] < IRIS_LANDMARKS:
        return None
    xs: list[float] = []
    ys: list[float] = []
    weights: list[float] = []
    for iris, left, right in EYES:
        a, b, c = landmarks[left, :2], landmarks[right, :2], landmarks[iris, :2]
        axis = b - a
        eye_width = float(np.hypot(axis[0], axis[1]))
        if eye_width < 1e-6:
            continue
        along = axis / eye_width
        up = np.array([along[1], -along[0]])  # image y grows downward
        offset = c - (a + b) / 2.0
        xs.append(float(offset @ along) / eye_width)
        ys.append(float(offset @ up) / eye_width)
        weights.append(eye_width)
    if not weights:
        return None
    x = float(np.average(xs, weights=weights))
    y = float(np.average(ys, weights=weights))
    return clip(x / IRIS_TRAVEL_X), clip((y - IRIS_REST_Y) / IRIS_TRAVEL_Y)


def clip(value: float, bound: float = 1.0) -> float:
    return max(-bound, min(bound, value))


def baseline_of(context: Mapping[str, Any]) -> dict[str, float] | None:
    """The candidate's neutral pose from ``Frame.context["gaze.baseline"]``, if it is usable."""
    raw = context.get("gaze.baseline")
    if not isinstance(raw, Mapping):
        return None
    baseline: dict[str, float] = {}
    for key in ("yaw", "pitch", "gaze_x", "gaze_y"):
        value = raw.get(key, 0.0)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        if not math.isfinite(value):
            return None
        baseline[key] = float(value)
    return baseline


def calibrate(
    pose: Pose, gaze: tuple[float, float], baseline: Mapping[str, float] | None
) -> tuple[Pose, tuple[float, float]]:
    """Measure relative to the candidate's neutral pose (roll is not calibrated: a tilted head
    does not move the gaze off the screen)."""
    if baseline is None:
        return pose, gaze
    relative = Pose(
        yaw=pose.yaw - baseline["yaw"], pitch=pose.pitch - baseline["pitch"], roll=pose.roll
    )
    return relative, (clip(gaze[0] - baseline["gaze_x"]), clip(gaze[1] - baseline["gaze_y"]))


def classify(
    yaw: float, pitch: float, gaze_x: float, gaze_y: float, limits: Limits
) -> tuple[bool, Direction]:
    """(off_screen, direction) of one measurement.

    Each of the four measures is compared with its own limit (the head and the eyes each can
    take the gaze off the screen; looking down at a phone on the lap counts like any other
    direction). The measure furthest beyond its limit names the direction; within every limit
    the candidate looks at the screen: ``center`` (a measure exactly at its limit is within).
    """
    ratios: list[tuple[float, Direction]] = [
        (yaw / limits.yaw_deg, "left" if yaw > 0 else "right"),
        (gaze_x / limits.gaze_x, "left" if gaze_x > 0 else "right"),
        (
            pitch / (limits.pitch_up_deg if pitch > 0 else limits.pitch_down_deg),
            "up" if pitch > 0 else "down",
        ),
        (
            gaze_y / (limits.gaze_up if gaze_y > 0 else limits.gaze_down),
            "up" if gaze_y > 0 else "down",
        ),
    ]
    worst, direction = max(((abs(r), d) for r, d in ratios), key=lambda item: item[0])
    if worst <= 1.0:
        return False, "center"
    return True, direction
