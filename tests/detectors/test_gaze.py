"""The gaze and head-pose detector: its conventions on real photographs (mirrored, rotated),
the geometry on known 3D rotations, the pure classification, calibration, and its rules."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from core.detectors import Frame
from core.policy import ProctoringPolicy, register_rules
from core.rules import AttemptRules
from plugins.detectors.gaze import plugin
from plugins.detectors.gaze.geometry import (
    MODEL_POINTS,
    POSE_LANDMARKS,
    Limits,
    baseline_of,
    camera_matrix,
    classify,
    head_pose,
    toward_camera,
)
from plugins.detectors.gaze.plugin import GAZE_AWAY, LOOKING_DOWN, GazeConfig, GazeDetector

data = pytest.importorskip("skimage.data")

LIMITS = Limits()


def bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, :, ::-1])


def mirrored(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def rotated(image: np.ndarray, degrees: float, centre: tuple[float, float]) -> np.ndarray:
    """``image`` turned counter-clockwise (as seen) by ``degrees`` about ``centre``."""
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    size = (image.shape[1], image.shape[0])
    return cv2.warpAffine(image, matrix, size, borderMode=cv2.BORDER_REPLICATE)


ASTRONAUT = bgr(data.astronaut())  # one woman looking into the lens
ASTRONAUT_FACE = (224.0, 122.0)  # the middle of her face mesh, in pixels
# The cameraman, enlarged: he faces the right of the picture, looking down into his viewfinder.
CAMERAMAN = cv2.resize(np.repeat(data.camera()[0:250, 150:400, None], 3, axis=2), None, fx=2, fy=2)


@pytest.fixture(scope="module")
def detector() -> GazeDetector:
    gaze = GazeDetector(GazeConfig())
    gaze.load()
    return gaze


def look(detector: GazeDetector, image: np.ndarray, **context: object) -> dict[str, object]:
    context = {f"gaze.{key}": value for key, value in context.items()}
    (seen,) = detector.detect([Frame("a", 1.0, image, context)])
    assert (seen.attempt_id, seen.ts, seen.detector) == ("a", 1.0, "gaze")
    return seen.values


def number(values: dict[str, object], key: str) -> float:
    value = values[key]
    assert isinstance(value, float), (key, value)
    return value


# -- real photographs ---------------------------------------------------------------------------


def test_a_face_looking_into_the_lens_is_centre(detector: GazeDetector) -> None:
    seen = look(detector, ASTRONAUT)
    assert seen["face"] is True
    assert seen["direction"] == "center"
    assert seen["off_screen"] is False
    assert seen["calibrated"] is False
    assert abs(number(seen, "yaw")) < 10
    assert abs(number(seen, "roll")) < 10
    assert -25 < number(seen, "pitch") < 5  # her chin is a little lowered
    assert abs(number(seen, "gaze_x")) < 0.3
    assert abs(number(seen, "gaze_y")) < 0.3
    assert set(seen) == {
        "face", "yaw", "pitch", "roll", "gaze_x", "gaze_y", "off_screen", "direction", "calibrated",
    }  # fmt: skip


def test_a_head_turned_away_is_off_screen_and_mirroring_flips_its_side(
    detector: GazeDetector,
) -> None:
    seen = look(detector, CAMERAMAN)
    # He faces the right of the picture: his nose points there, so he turned to HIS left.
    assert number(seen, "yaw") > 35
    assert seen["off_screen"] is True
    assert seen["direction"] == "left"
    flipped = look(detector, mirrored(CAMERAMAN))
    assert number(flipped, "yaw") < -35
    assert abs(number(flipped, "yaw") + number(seen, "yaw")) < 10
    assert flipped["direction"] == "right"
    assert number(seen, "gaze_x") > 0 > number(flipped, "gaze_x")  # his eyes follow his head


@pytest.mark.parametrize("degrees", [-25, -15, 15, 25])
def test_turning_the_image_changes_roll_by_that_angle(
    detector: GazeDetector, degrees: float
) -> None:
    upright = number(look(detector, ASTRONAUT), "roll")
    turned = look(detector, rotated(ASTRONAUT, degrees, ASTRONAUT_FACE))
    assert number(turned, "roll") - upright == pytest.approx(degrees, abs=4)
    # A mirrored picture of the tilted head tilts the other way, and turns the other way.
    flipped = look(detector, mirrored(rotated(ASTRONAUT, degrees, ASTRONAUT_FACE)))
    assert number(flipped, "roll") == pytest.approx(-number(turned, "roll"), abs=4)
    assert number(flipped, "yaw") == pytest.approx(-number(turned, "yaw"), abs=4)
    assert abs(number(flipped, "pitch") - number(turned, "pitch")) < 6


def test_no_face_in_empty_scenes(detector: GazeDetector) -> None:
    coffee, rocket = bgr(data.coffee()), bgr(data.rocket())
    seen = detector.detect([Frame("x", 1.0, coffee), Frame("y", 2.0, rocket)])
    assert [o.attempt_id for o in seen] == ["x", "y"]
    for observation in seen:
        assert observation.values["face"] is False
        assert observation.values["off_screen"] is False
        assert observation.values["direction"] is None
        assert observation.values["yaw"] is None


def test_a_batch_keeps_each_frame_with_its_own_attempt_and_context(
    detector: GazeDetector,
) -> None:
    away = {"gaze.baseline": {"yaw": -45.0, "pitch": -15.0, "gaze_x": 0.0, "gaze_y": 0.0}}
    frames = [
        Frame("plain", 1.0, ASTRONAUT),
        Frame("empty", 1.0, bgr(data.coffee())),
        Frame("offset", 1.0, ASTRONAUT, away),
    ]
    plain, empty, offset = detector.detect(frames)
    assert (plain.attempt_id, plain.values["direction"]) == ("plain", "center")
    assert (empty.attempt_id, empty.values["face"]) == ("empty", False)
    assert offset.attempt_id == "offset"
    assert offset.values["calibrated"] is True
    assert offset.values["direction"] == "left"  # 45° right of her neutral pose = turned left


def test_a_real_face_turned_down_in_3d_reads_as_looking_down(detector: GazeDetector) -> None:
    """The astronaut's own mesh (with mediapipe's depth) turned about a horizontal axis and
    projected back through the detector's pinhole camera: pitch falls as the chin drops."""
    mesh = detector.landmarks(detector._model(), ASTRONAUT)
    assert mesh is not None
    height, width = ASTRONAUT.shape[:2]
    focal, depth = float(width), 10.0 * width
    scale = depth / focal
    distance = depth + mesh[:, 2] * scale  # each point on its own ray, at its own depth
    x = (mesh[:, 0] - width / 2) * distance / focal
    y = (mesh[:, 1] - height / 2) * distance / focal
    points = np.column_stack([x, y, distance])
    centre = points.mean(axis=0)
    pitches: list[float] = []
    directions: list[object] = []
    for degrees in (-20, 0, 15, 30, 40):  # > 0: chin down, forehead toward the camera
        a = math.radians(degrees)
        turn = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
        moved = (points - centre) @ turn.T + centre
        u = focal * moved[:, 0] / moved[:, 2] + width / 2
        v = focal * moved[:, 1] / moved[:, 2] + height / 2
        seen = plugin.values(np.column_stack([u, v]), ASTRONAUT, {}, GazeConfig())
        pitches.append(number(seen, "pitch"))
        directions.append(seen["direction"])
    assert pitches == sorted(pitches, reverse=True)
    assert pitches[0] > 20  # turned up
    assert pitches[-1] < -40
    assert directions[0] == "up"
    assert directions[1] == "center"
    assert directions[-2:] == ["down", "down"]


# -- the geometry on constructed poses -----------------------------------------------------------


def project(
    rotation: np.ndarray, position: tuple[float, float, float], size: tuple[int, int]
) -> np.ndarray:
    """The canonical model's landmarks seen through the detector's camera."""
    width, height = size
    placed = MODEL_POINTS @ rotation.T + np.array(position)
    pixels = placed @ camera_matrix(width, height).T
    return np.asarray(pixels[:, :2] / pixels[:, 2:3])


def pose_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Turn by the documented meanings: nose to the image's right, up, counter-clockwise."""
    y, p, r = (math.radians(v) for v in (yaw, pitch, roll))
    nose_right = np.array(
        [[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]]
    )
    nose_up = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    counter = np.array([[math.cos(r), math.sin(r), 0], [-math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return np.asarray(nose_right @ nose_up @ counter)


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"),
    [(0, 0, 0), (25, 0, 0), (-40, 0, 0), (0, 20, 0), (0, -35, 0), (0, 0, 15), (20, -25, -10)],
)
def test_known_poses_are_recovered_with_their_signs(yaw: float, pitch: float, roll: float) -> None:
    points = project(pose_matrix(yaw, pitch, roll), (0.0, 0.0, 60.0), (640, 480))
    pose = head_pose(points, 640, 480)
    assert pose is not None
    assert (pose.yaw, pose.pitch, pose.roll) == pytest.approx((yaw, pitch, roll), abs=0.5)


def test_looking_into_the_lens_reads_zero_anywhere_in_the_picture() -> None:
    for position in [(-20.0, -12.0, 60.0), (25.0, 15.0, 70.0), (0.0, 18.0, 55.0)]:
        facing_the_lens = toward_camera(np.array(position))
        pose = head_pose(project(facing_the_lens, position, (640, 480)), 640, 480)
        assert pose is not None
        assert (pose.yaw, pose.pitch, pose.roll) == pytest.approx((0, 0, 0), abs=0.5)
        # While the same head turned parallel to the optical axis is seen looking away.
        straight = head_pose(project(np.eye(3), position, (640, 480)), 640, 480)
        assert straight is not None
        assert max(abs(straight.yaw), abs(straight.pitch)) > 10


def test_degenerate_points_give_no_pose() -> None:
    assert head_pose(np.zeros((len(POSE_LANDMARKS), 2)), 640, 480) is None


# -- classification, a pure function --------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaw", "pitch", "gaze_x", "gaze_y", "expected"),
    [
        (0, 0, 0, 0, (False, "center")),
        (29, -24, 0.24, -0.5, (False, "center")),  # everything within its limit
        (30, 0, 0, 0, (False, "center")),  # exactly at the limit is still within
        (31, 0, 0, 0, (True, "left")),  # turned to their own left
        (-45, 0, 0, 0, (True, "right")),
        (0, 26, 0, 0, (True, "up")),
        (0, -26, 0, 0, (True, "down")),  # head down: a phone on the lap
        (0, 0, 0.8, 0, (True, "left")),  # eyes alone
        (0, 0, -0.8, 0, (True, "right")),
        (0, 0, 0, 0.9, (True, "up")),
        (0, 0, 0, -0.7, (True, "down")),  # eyes down, head still
        (0, 0, 0, 0.7, (False, "center")),  # up and down have their own limits
        (20, -45, 0, 0, (True, "down")),  # the measure furthest beyond its limit wins
        (50, -30, 0, 0, (True, "left")),
        (10, -5, 0.2, -0.95, (True, "down")),
    ],
)
def test_classification(
    yaw: float, pitch: float, gaze_x: float, gaze_y: float, expected: tuple[bool, str]
) -> None:
    assert classify(yaw, pitch, gaze_x, gaze_y, LIMITS) == expected


def test_limits_come_from_the_config() -> None:
    strict = GazeConfig(yaw_max_deg=10, pitch_down_max_deg=5, gaze_down_max=0.2).limits()
    assert classify(12, 0, 0, 0, strict) == (True, "left")
    assert classify(0, -6, 0, 0, strict) == (True, "down")
    assert classify(0, 0, 0, -0.3, strict) == (True, "down")
    assert classify(12, 0, 0, 0, LIMITS) == (False, "center")


# -- calibration --------------------------------------------------------------------------------


def test_a_baseline_makes_an_offset_pose_read_as_centre(detector: GazeDetector) -> None:
    raw = look(detector, CAMERAMAN)
    assert raw["direction"] == "left"
    baseline = {key: raw[key] for key in ("yaw", "pitch", "gaze_x", "gaze_y")}
    seen = look(detector, CAMERAMAN, baseline=baseline)
    assert seen["calibrated"] is True
    assert seen["direction"] == "center"
    assert seen["off_screen"] is False
    for key in ("yaw", "pitch", "gaze_x", "gaze_y"):
        assert seen[key] == pytest.approx(0.0, abs=0.01)
    assert seen["roll"] == raw["roll"]  # roll is not calibrated


def test_uncalibrated_angles_are_reported_as_measured_and_judged_against_a_typical_pose(
    detector: GazeDetector,
) -> None:
    measured = number(look(detector, ASTRONAUT), "pitch")
    # A config whose typical pose sits far above hers makes her look down; the value reported
    # stays the measured one (the calibration endpoint takes its baseline from it).
    strict = GazeDetector(GazeConfig(uncalibrated_pitch_deg=measured + 30))
    (seen,) = strict.detect([Frame("a", 1.0, ASTRONAUT)])
    assert seen.values["pitch"] == measured
    assert seen.values["direction"] == "down"
    assert seen.values["calibrated"] is False


def test_a_baseline_must_be_numbers() -> None:
    good = {"yaw": 3, "pitch": -12.5, "gaze_x": 0.1, "gaze_y": -0.05, "samples": 5}
    assert baseline_of({"gaze.baseline": good}) == {
        "yaw": 3.0, "pitch": -12.5, "gaze_x": 0.1, "gaze_y": -0.05,
    }  # fmt: skip
    assert baseline_of({"gaze.baseline": {"pitch": -10}}) == {
        "yaw": 0.0, "pitch": -10.0, "gaze_x": 0.0, "gaze_y": 0.0,
    }  # fmt: skip
    for junk in ("x", None, {"yaw": "left"}, {"yaw": True}, {"yaw": math.nan}, [1, 2]):
        assert baseline_of({"gaze.baseline": junk}) is None
    assert baseline_of({}) is None


# -- plugin wiring -----------------------------------------------------------------------------


def test_cuda_is_refused_with_a_reason() -> None:
    with pytest.raises(RuntimeError, match="CPU only"):
        GazeDetector(GazeConfig(device="cuda")).load()


def test_needs_follow_the_config() -> None:
    assert GazeDetector(GazeConfig(min_interval_s=2.0)).needs.min_interval_s == 2.0
    assert GazeDetector(GazeConfig()).needs.min_interval_s == 0.5
    assert GazeDetector(GazeConfig()).needs.video is True


# -- rules --------------------------------------------------------------------------------------


def test_rules_are_registered_and_exempting_gaze_switches_them_off() -> None:
    register_rules(plugin.invigilator_register_rules())
    policy = ProctoringPolicy(enabled=True)
    kinds = {rule.kind for rule in policy.rules_for()}
    assert {"gaze_away", "looking_down"} <= kinds
    exempt = {rule.kind for rule in policy.rules_for(["gaze"])}
    assert not exempt & {"gaze_away", "looking_down"}
    assert "no_face" in exempt
    tuned = ProctoringPolicy(enabled=True, rules={"gaze_away": {"min_duration_s": 8}})
    assert {r.kind: r for r in tuned.resolved()}["gaze_away"].min_duration_s == 8


def test_looking_away_then_down_raises_the_right_violations(detector: GazeDetector) -> None:
    away = look(detector, CAMERAMAN)  # a real observation of someone turned away
    centre = look(detector, ASTRONAUT)
    down = {**centre, "pitch": -40.0, "off_screen": True, "direction": "down"}
    rules = AttemptRules("a", [GAZE_AWAY, LOOKING_DOWN])
    changes: list[tuple[float, str, str]] = []

    def feed(start: float, stop: float, values: dict[str, object]) -> None:
        t = start
        while t < stop:
            for change in rules.feed("observation.gaze", t, values):
                changes.append((t, change.type, change.violation.kind))
            t += 0.5

    feed(0.0, 3.0, centre)
    feed(3.0, 10.0, away)  # turned away from 3 s: gaze_away once it held 4 s
    assert changes == [(7.0, "started", "gaze_away")]
    started = rules.open_violations()[0]
    assert (started.started_at, started.label, started.detector) == (3.0, "Looking away", "gaze")
    feed(10.0, 16.0, down)  # still away, now down: looking_down joins after 4 s
    assert changes[1:] == [(14.0, "started", "looking_down")]
    feed(16.0, 20.0, centre)  # back at the screen for more than the 1.5 s gap: both end
    assert sorted(changes[2:]) == [(17.5, "ended", "gaze_away"), (17.5, "ended", "looking_down")]
    assert rules.open_violations() == []
