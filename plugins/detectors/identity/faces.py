"""Faces to embeddings: find faces (mediapipe), align and embed them (dlib's ResNet), compare.

dlib's face recognition model maps an aligned face to 128 numbers; two photos of one person lie
within ~0.3 of each other, photos of different people usually beyond 0.65, and 0.6 is the
threshold dlib was calibrated for (99.38 % on LFW). Its models ship in the
``face_recognition_models`` wheel, so nothing is downloaded. The files are located without
importing that package, whose ``__init__`` pulls in the deprecated ``pkg_resources``.

mediapipe's BlazeFace finds the faces (a few milliseconds, and better than dlib's HOG detector
at the angles and lighting of a laptop camera); dlib's 5-point shape predictor then aligns each
box before the ResNet embeds it (~65-125 ms per face on one CPU core).

**dlib runs in its own process.** It holds Python's GIL for the whole ~100 ms of an embedding
(measured: the server's event loop stalled for up to 470 ms while one thread embedded ten
faces), which would freeze every WebRTC connection and HTTP request of the process each time a
face is checked. So the embedding runs in a small pool of spawned worker processes
(``embedding_processes``), each loading dlib's models once; the caller sends only a crop around
the face (~100 KB) and gets 128 numbers back, and waits without holding the GIL. mediapipe
releases the GIL and stays in the server process, one graph per thread (a graph is bound to the
thread that made it).
"""

from __future__ import annotations

import importlib.util
import io
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
from PIL import Image

from plugins.detectors.shared_models import LockedModel, shared

MODEL_NAME = "dlib_resnet_v1"  # what face_enrollments.embedding_model says
DIMENSIONS = 128
MIN_DETECTION_CONFIDENCE = 0.5
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
CROP_MARGIN = 0.6  # of the box size on each side: dlib's aligned chip (padding 0.25) fits in

Status = Literal["match", "mismatch", "no_reference", "no_face", "skipped"]
T = TypeVar("T")


class ModelUnavailable(RuntimeError):
    """dlib or its model files are missing, the device asked for is not there, or the
    embedding process could not be started."""


@dataclass(frozen=True)
class Face:
    """One face box in pixels of the image it was found in, with the detector's score."""

    x0: int
    y0: int
    x1: int
    y1: int
    score: float

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def area(self) -> int:
        return max(0, self.x1 - self.x0) * max(0, self.y1 - self.y0)


@dataclass(frozen=True)
class Verdict:
    """A comparison of the faces in one image with a reference."""

    status: Status
    distance: float | None
    faces: int
    confidence: float = 1.0


# -- the embedding process -----------------------------------------------------------------------


def model_dir() -> Path:
    """Where ``face_recognition_models`` keeps its files (found without importing it)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("face_recognition_models is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    for name in (SHAPE_MODEL, RECOGNITION_MODEL):
        if not (folder / name).is_file():
            raise ModelUnavailable(f"face_recognition_models lacks {name}")
    return folder


class DlibModels:
    """The 5-point shape predictor and the ResNet embedder, loaded once per worker process."""

    def __init__(self) -> None:
        try:
            import dlib  # noqa: PLC0415 (heavy; only in the embedding processes)
        except ImportError as error:
            raise ModelUnavailable(f"dlib is not installed ({error})") from None
        folder = model_dir()
        self.dlib = dlib
        self.cuda = bool(getattr(dlib, "DLIB_USE_CUDA", False))
        self.shape = dlib.shape_predictor(str(folder / SHAPE_MODEL))
        self.net = dlib.face_recognition_model_v1(str(folder / RECOGNITION_MODEL))

    def embed(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        landmarks = self.shape(rgb, self.dlib.rectangle(*box))
        return np.asarray(self.net.compute_face_descriptor(rgb, landmarks), dtype=np.float64)


_models: DlibModels | None = None  # in a worker process


def _worker_models() -> DlibModels:
    global _models  # noqa: PLW0603 - one model set per worker process
    if _models is None:
        _models = DlibModels()
    return _models


def _worker_embed(crops: list[tuple[np.ndarray, tuple[int, int, int, int]]]) -> list[np.ndarray]:
    """Runs in a worker process: the embedding of each (crop, box in the crop)."""
    models = _worker_models()
    return [models.embed(np.ascontiguousarray(crop), box) for crop, box in crops]


def _worker_device() -> bool:
    """Runs in a worker process: load the models, embed once, say whether dlib uses CUDA."""
    models = _worker_models()
    blank = np.zeros((160, 160, 3), dtype=np.uint8)
    models.embed(blank, (40, 40, 120, 120))
    return models.cuda


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_processes = 1


def configure(processes: int) -> None:
    """How many embedding processes to start (read when the pool is first used)."""
    global _processes  # noqa: PLW0603
    _processes = max(1, processes)


def _executor() -> ProcessPoolExecutor:
    global _pool  # noqa: PLW0603 - one pool per server process
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the server process runs threads (asyncio, aiortc, mediapipe),
            # and a forked copy of their locks can deadlock.
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(_processes, mp_context=context)
        return _pool


def _run(function: Callable[..., T], *args: Any) -> T:
    """Call ``function`` in an embedding process and wait (the GIL is free meanwhile). A pool
    whose process died (killed for memory, a crash) is replaced once."""
    global _pool  # noqa: PLW0603
    for attempt in range(2):
        pool = _executor()
        try:
            return pool.submit(function, *args).result()
        except BrokenProcessPool:
            with _pool_lock:
                if _pool is pool:
                    _pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            if attempt == 1:
                raise ModelUnavailable("the embedding process stopped unexpectedly") from None
    raise AssertionError("unreachable")  # pragma: no cover


def warm_up(wanted: Literal["auto", "cpu", "cuda"]) -> Literal["cpu", "cuda"]:
    """Start the embedding process, load its models and run them once; return the device.

    dlib picks its device when it is built, not at run time, so a setting that the installed
    build cannot honour is refused rather than ignored.
    """
    cuda = _run(_worker_device)
    if wanted == "cuda" and not cuda:
        raise ModelUnavailable("device = cuda, but this dlib was built without CUDA")
    if wanted == "cpu" and cuda:
        raise ModelUnavailable("device = cpu, but this dlib build always uses CUDA; use auto")
    return "cuda" if cuda else "cpu"


def _crop(rgb: np.ndarray, face: Face) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    height, width = rgb.shape[:2]
    margin_x = round(face.width * CROP_MARGIN)
    margin_y = round((face.y1 - face.y0) * CROP_MARGIN)
    x0, y0 = max(0, face.x0 - margin_x), max(0, face.y0 - margin_y)
    x1, y1 = min(width, face.x1 + margin_x), min(height, face.y1 + margin_y)
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    return crop, (face.x0 - x0, face.y0 - y0, face.x1 - x0, face.y1 - y0)


def embed(rgb: np.ndarray, faces: Sequence[Face]) -> list[np.ndarray]:
    """The embeddings of ``faces`` in ``rgb``, computed in an embedding process. Blocking."""
    if not faces:
        return []
    return _run(_worker_embed, [_crop(rgb, face) for face in faces])


# -- finding and comparing, in the server process -----------------------------------------------


def _finder() -> LockedModel:
    def build() -> Any:
        import mediapipe as mp  # noqa: PLC0415

        return mp.solutions.face_detection.FaceDetection(
            model_selection=1,  # full range: a candidate sits an arm's length or more away
            min_detection_confidence=MIN_DETECTION_CONFIDENCE,
        )

    return shared(("face_detection", 1, MIN_DETECTION_CONFIDENCE), build)


def rgb_of(bgr: np.ndarray) -> np.ndarray:
    """A C-contiguous RGB copy of a BGR frame (what mediapipe and dlib take)."""
    return np.ascontiguousarray(bgr[:, :, ::-1])


def find_faces(rgb: np.ndarray) -> list[Face]:
    """Every face in ``rgb``, largest first."""
    height, width = rgb.shape[:2]
    result = _finder().process(rgb)
    faces: list[Face] = []
    for detection in result.detections or ():
        box = detection.location_data.relative_bounding_box
        x0 = max(0, round(box.xmin * width))
        y0 = max(0, round(box.ymin * height))
        x1 = min(width, round((box.xmin + box.width) * width))
        y1 = min(height, round((box.ymin + box.height) * height))
        if x1 > x0 and y1 > y0:
            faces.append(Face(x0, y0, x1, y1, float(detection.score[0])))
    return sorted(faces, key=lambda f: f.area, reverse=True)


def usable(faces: Sequence[Face], min_face_px: int, max_faces: int) -> list[Face]:
    """The faces large enough to compare, largest first, at most ``max_faces``.

    Below ~40 pixels the embedding of one person drifts towards other people's (measured:
    0.32 from the same photo at 39 px, 0.45 at 25 px, where another person came to 0.59), so a
    tiny face is not evidence either way.
    """
    return [face for face in faces if face.width >= min_face_px][:max_faces]


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def as_reference(value: object) -> np.ndarray | None:
    """A stored or context reference as a vector; anything malformed is no reference."""
    if not isinstance(value, list | tuple) or len(value) != DIMENSIONS:
        return None
    try:
        vector = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return vector if bool(np.isfinite(vector).all()) else None


def compare(
    rgb: np.ndarray,
    faces: Sequence[Face],
    reference: np.ndarray,
    *,
    threshold: float,
    min_face_px: int,
    max_faces: int,
) -> Verdict:
    """Is anyone in ``faces`` the person of ``reference``? Blocking.

    Any of the compared faces may match: a bystander is the face detector's business (several
    faces), while a stranger alone in the frame is a mismatch. ``confidence`` is the detector's
    score of the face the verdict rests on.
    """
    if not faces:
        return Verdict("no_face", None, 0)
    candidates = usable(faces, min_face_px, max_faces)
    if not candidates:
        return Verdict("skipped", None, len(faces))
    distances = [distance(vector, reference) for vector in embed(rgb, candidates)]
    best = int(np.argmin(distances))
    nearest = distances[best]
    status: Status = "match" if nearest <= threshold else "mismatch"
    return Verdict(status, round(nearest, 4), len(faces), candidates[best].score)


def reference_of(rgb: np.ndarray, *, min_face_px: int) -> tuple[np.ndarray | None, int]:
    """The embedding of the largest face of an enrollment photo, and how many faces it has."""
    faces = find_faces(rgb)
    chosen = usable(faces, min_face_px, 1)
    if not chosen:
        return None, len(faces)
    return embed(rgb, chosen)[0], len(faces)


def decode_rgb(data: bytes) -> np.ndarray:
    """A JPEG or PNG the server produced itself, as C-contiguous RGB."""
    with Image.open(io.BytesIO(data)) as image:
        return np.ascontiguousarray(np.asarray(image.convert("RGB")))
