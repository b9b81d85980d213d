"""The face detector, with each model it offers, on real photographs, not synthetic blobs."""

from __future__ import annotations

import numpy as np
import pytest

from core.detectors import Frame
from plugins.detectors.face.plugin import FaceConfig, FaceDetector

data = pytest.importorskip("skimage.data")


def bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, :, ::-1])


@pytest.fixture(scope="module", params=["full_range", "centerface"])
def detector(request: pytest.FixtureRequest) -> FaceDetector:
    face = FaceDetector(FaceConfig(model=request.param, device="cpu"))
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


def test_centerface_counts_the_far_group_mediapipe_misses() -> None:
    """Five faces 40-90 px high on a 640x480 frame: the case that made CenterFace an option."""
    from plugins.evaluation.builtin import images  # noqa: PLC0415

    group_far, expected = images()["group_far"]
    counts = {}
    for model in ("full_range", "centerface"):
        face = FaceDetector(FaceConfig(model=model, device="cpu"))
        face.load()
        (seen,) = face.detect([Frame("a", 1.0, group_far)])
        counts[model] = seen.values["count"]
    assert counts["centerface"] == expected == 5
    assert counts["full_range"] < expected


def test_cuda_without_a_cuda_runtime_is_refused_with_the_fix() -> None:
    import onnxruntime  # noqa: PLC0415

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this machine has CUDA")
    face = FaceDetector(FaceConfig(model="centerface", device="cuda", min_confidence=0.41))
    with pytest.raises(RuntimeError, match="onnxruntime-gpu"):
        face.load()
