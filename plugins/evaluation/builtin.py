"""The built-in labelled set, generated from real material that installed packages ship.

Nothing here is downloaded or stored in the repository: photographs come from scikit-image
(astronaut: one face; coffee, rocket: scenes without a face; ``lfw_subset``: small real faces)
and matplotlib's sample data (Grace Hopper's portrait, when the install has it); speech comes
from espeak-ng when it is installed; noise and silence from numpy. A real webcam recording of a
person looking away (``center_left_center.mp4`` in the folder named by
``INVIGILATOR_EVAL_GAZE_DIR``, when set) is used in place, never copied. Transformations stand
for what cameras deliver: low light (gamma), blur, a mirrored image, faces far from the camera
(scaled down) and several faces at different distances.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

RATE = 16_000
GAZE_DIR_VARIABLE = "INVIGILATOR_EVAL_GAZE_DIR"


def gaze_dir() -> Path | None:
    """Where a real gaze recording lives, if the operator pointed us at one."""
    value = os.environ.get(GAZE_DIR_VARIABLE)
    return Path(value) if value else None


SPEECH = (
    "Excuse me, could you tell me the answer to question four? I think it is the second one, "
    "but I am not sure. Write it down quickly before the proctor looks."
)


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _resize(image: np.ndarray, height: int) -> np.ndarray:
    import cv2  # noqa: PLC0415

    width = max(1, round(image.shape[1] * height / image.shape[0]))
    interpolation = cv2.INTER_AREA if height < image.shape[0] else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(image, (width, height), interpolation=interpolation))


def _paste(canvas: np.ndarray, image: np.ndarray, x: int, y: int) -> None:
    h, w = image.shape[:2]
    canvas[y : y + h, x : x + w] = image


def _darken(image: np.ndarray, gamma: float = 2.2, gain: float = 0.45) -> np.ndarray:
    """Low light: darker mid-tones (gamma) and less light overall (gain)."""
    scaled = (image.astype(np.float32) / 255.0) ** gamma * gain
    return np.asarray(np.clip(scaled * 255.0, 0, 255).astype(np.uint8))


def faces() -> dict[str, np.ndarray]:
    """Real face crops (BGR) available here, by name."""
    from skimage import data  # noqa: PLC0415

    crops = {"astronaut": _bgr(data.astronaut()[10:250, 110:340])}  # type: ignore[no-untyped-call]
    lfw = data.lfw_subset()  # type: ignore[no-untyped-call]
    for i in (0, 7, 13):  # three different people
        grey = (lfw[i] * 255).astype(np.uint8)
        crops[f"lfw{i}"] = np.repeat(grey[:, :, None], 3, axis=2)
    try:
        from matplotlib import cbook  # noqa: PLC0415
        from matplotlib.image import imread  # noqa: PLC0415

        path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
        portrait = np.asarray(imread(str(path)))
        crops["grace_hopper"] = _bgr(portrait[30:330, 110:420])
    except (ImportError, OSError, ValueError):
        pass
    return crops


def images() -> dict[str, tuple[np.ndarray, int]]:
    """Every still of the set with the number of faces in it: (BGR image, faces)."""
    from skimage import data  # noqa: PLC0415

    crops = faces()
    out: dict[str, tuple[np.ndarray, int]] = {
        "astronaut": (_bgr(data.astronaut()), 1),  # type: ignore[no-untyped-call]
        "coffee": (_bgr(data.coffee()), 0),  # type: ignore[no-untyped-call]
        "rocket": (_bgr(data.rocket()), 0),  # type: ignore[no-untyped-call]
    }
    out["astronaut_dark"] = (_darken(out["astronaut"][0]), 1)
    out["coffee_dark"] = (_darken(out["coffee"][0]), 0)
    import cv2  # noqa: PLC0415

    out["astronaut_blur_mirror"] = (
        np.asarray(cv2.GaussianBlur(out["astronaut"][0][:, ::-1], (15, 15), 0)),
        1,
    )
    far = np.full((480, 640, 3), 150, dtype=np.uint8)
    _paste(far, _resize(out["astronaut"][0], 150), 250, 60)  # face ~45 px: a far candidate
    out["astronaut_far"] = (far, 1)
    for name, heights in (("group", (220, 170, 110, 90, 80)), ("group_far", (90, 70, 55, 45, 40))):
        canvas = np.full((480, 640, 3), 160, dtype=np.uint8)
        x, placed = 10, 0
        for crop, height in zip(crops.values(), heights, strict=False):
            face = _resize(crop, height)
            if x + face.shape[1] > 630:
                break
            _paste(canvas, face, x, 40 + (placed % 2) * 120)
            x += face.shape[1] + 15
            placed += 1
        out[name] = (canvas, placed)
    out["group_dark"] = (_darken(out["group"][0]), out["group"][1])
    return out


def _write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples.astype("<i2").tobytes())


def _speech(path: Path) -> float | None:
    """espeak-ng's speech, then silence, at 16 kHz; its length in seconds (None: no espeak-ng)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.wav"
        command = [espeak, "-s", "150", "-w", str(raw), SPEECH]
        subprocess.run(command, check=True, timeout=60)  # noqa: S603 (fixed arguments)
        with wave.open(str(raw), "rb") as wav:
            rate = wav.getframerate()
            voice = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(float)
    count = round(voice.size * RATE / rate)
    voice = np.interp(np.arange(count) * rate / RATE, np.arange(voice.size), voice)
    _write_wav(path, np.concatenate([voice, np.zeros(6 * RATE)]))
    return float(voice.size / RATE)


def build(folder: Path, only: set[str] | None = None) -> Path:
    """Write the stills, audio and ``manifest.json`` into ``folder``; returns ``folder``."""
    import cv2  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    stills = images()
    for name, (image, _) in stills.items():
        cv2.imwrite(str(folder / f"{name}.png"), image)

    def held(*parts: tuple[str, float]) -> list[dict[str, Any]]:
        return [{"image": f"{name}.png", "seconds": seconds} for name, seconds in parts]

    clips: list[dict[str, Any]] = [
        {"name": "face_then_empty", "frames": held(("astronaut", 6), ("coffee", 6)),
         "labels": [{"kind": "no_face", "start": 6, "end": 12}]},
        {"name": "empty_then_face", "frames": held(("rocket", 6), ("astronaut", 6)),
         "labels": [{"kind": "no_face", "start": 0, "end": 6}]},
        {"name": "dark_face_then_empty", "frames": held(("astronaut_dark", 6), ("coffee_dark", 6)),
         "labels": [{"kind": "no_face", "start": 6, "end": 12}]},
        {"name": "blur_mirror_face", "frames": held(("astronaut_blur_mirror", 10)), "labels": []},
        {"name": "far_face", "frames": held(("astronaut_far", 10)), "labels": []},
        {"name": "group_then_one", "frames": held(("group", 6), ("astronaut", 6)),
         "labels": [{"kind": "multiple_faces", "start": 0, "end": 6}]},
        {"name": "far_group_then_one", "frames": held(("group_far", 6), ("astronaut", 6)),
         "labels": [{"kind": "multiple_faces", "start": 0, "end": 6}]},
        {"name": "dark_group_then_one", "frames": held(("group_dark", 6), ("astronaut", 6)),
         "labels": [{"kind": "multiple_faces", "start": 0, "end": 6}]},
    ]  # fmt: skip
    speech_s = _speech(folder / "speech.wav")
    if speech_s is not None:
        clips.append(
            {"name": "speech_then_silence", "audio": "speech.wav",
             "labels": [{"kind": "talking", "start": 0, "end": round(speech_s, 2)}]}
        )  # fmt: skip
    rng = np.random.default_rng(7)
    _write_wav(folder / "noise.wav", rng.normal(0, 300, 12 * RATE))  # a fan, about -40 dBFS
    _write_wav(folder / "silence.wav", np.zeros(12 * RATE))
    bang = np.zeros(12 * RATE)
    bang[5 * RATE : 5 * RATE + RATE // 5] = rng.normal(0, 12000, RATE // 5)
    _write_wav(folder / "bang.wav", bang)
    clips += [
        {"name": "fan_noise", "audio": "noise.wav", "labels": []},
        {"name": "silence", "audio": "silence.wav", "labels": []},
        {"name": "bang", "audio": "bang.wav",
         "labels": [{"kind": "loud_noise", "start": 5, "end": 5.2}]},
    ]  # fmt: skip
    recordings = gaze_dir()
    video = recordings / "center_left_center.mp4" if recordings is not None else None
    if video is not None and video.is_file():
        clips.append(
            {"name": "gaze_center_left_center", "video": str(video),
             "note": "real webcam: screen 0-5 s, to the side 5-10 s, screen 10-15 s (+-0.5 s)",
             "labels": [{"kind": "gaze_away", "start": 5, "end": 10}]}
        )  # fmt: skip
    if only is not None:
        clips = [clip for clip in clips if clip["name"] in only]
    manifest = {
        "description": "built-in set generated by invigilator eval (docs/accuracy.md)",
        "tolerance_s": 1.0,
        "clips": clips,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return folder
