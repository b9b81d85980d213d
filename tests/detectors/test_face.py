"""The mediapipe face detector on real photographs, not synthetic blobs."""

from __future__ import annotations

import numpy as np
import pytest

from core.detectors import Frame
from plugins.detectors.face.plugin import FaceConfig, FaceDetector

data = pytest.importorskip("skimage.data")


def bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, :, ::-1])


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    face = FaceDetector(FaceConfig(model="full_range"))
    face.load()
    return face


def test_one_face_with_a_plausible_box(detector: FaceDetector) -> None:
    (seen,) = detector.detect([Frame("a", 1.0, bgr(data.astronaut()))])
    assert seen.values["count"] == 1
    x, y, w, h = seen.values["boxes"][0]
    # The astronaut's face sits in the upper middle of the photograph.
    assert 0.25 < x + w / 2 < 0.55
    assert 0.1 < y + h / 2 < 0.4
    assert 0.1 < w < 0.35
    assert seen.confidence > 0.8
    assert (seen.attempt_id, seen.ts, seen.detector) == ("a", 1.0, "face")


def test_no_face_in_an_empty_scene(detector: FaceDetector) -> None:
    sky = np.repeat(data.camera()[:100, :, None], 3, axis=2)  # the sky above the cameraman
    blank = np.full((480, 640, 3), 128, dtype=np.uint8)
    seen = detector.detect([Frame("a", 1.0, sky), Frame("b", 1.0, blank)])
    assert [o.values["count"] for o in seen] == [0, 0]
    assert [o.attempt_id for o in seen] == ["a", "b"]


def test_two_faces_side_by_side(detector: FaceDetector) -> None:
    face = data.astronaut()[20:240, 120:330]
    group = np.concatenate([face, face[:, ::-1]], axis=1)
    (seen,) = detector.detect([Frame("a", 1.0, bgr(group))])
    assert seen.values["count"] == 2
    assert len(seen.values["scores"]) == 2


def test_a_batch_keeps_each_frame_with_its_attempt(detector: FaceDetector) -> None:
    astronaut = bgr(data.astronaut())
    blank = np.zeros((240, 320, 3), dtype=np.uint8)
    seen = detector.detect([Frame("x", 1.0, astronaut), Frame("y", 2.0, blank)])
    assert [(o.attempt_id, o.values["count"]) for o in seen] == [("x", 1), ("y", 0)]
