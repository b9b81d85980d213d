"""``invigilator plugins try``: a real detector over a real clip; observations, violations."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from tests.app.conftest import write_plugins_file
from webapp.cli import main

data = pytest.importorskip("skimage.data")
SIZE = 512


def _still(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` cropped or padded to SIZE x SIZE (the astronaut already is)."""
    canvas = np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
    crop = rgb[:SIZE, :SIZE]
    canvas[: crop.shape[0], : crop.shape[1]] = crop
    return canvas


def write_clip(path: Path, scenes: list[tuple[np.ndarray, int]], fps: int = 4) -> Path:
    """An MPEG-4 video of each ``(rgb photo, seconds)`` scene in turn, encoded by FFmpeg."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width = stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        for rgb, seconds in scenes:
            for _ in range(seconds * fps):
                frame = av.VideoFrame.from_ndarray(_still(rgb), format="rgb24")
                container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clip")
    # 3 s of one face, then 8 s of an empty scene: longer than no_face's 5 s.
    return write_clip(
        folder / "astronaut-then-coffee.mp4", [(data.astronaut(), 3), (data.coffee(), 8)]
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "INVIGILATOR_DATA_DIR": str(tmp_path / "var"),
        "INVIGILATOR_PLUGINS_FILE": str(write_plugins_file(tmp_path)),
        "INVIGILATOR_LOG_FORMAT": "text",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["plugins", "try", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_face_over_a_clip_prints_counts_and_the_no_face_violation(
    env: dict[str, str], clip: Path
) -> None:
    code, out, err = run(env, "face", "--clip", str(clip), "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    seen = [r for r in rows if "violation" not in r]
    counts = [r["count"] for r in seen]
    # 2 looks a second over 11 s: the astronaut's face first, then no face in the coffee scene.
    assert counts[:6] == [1] * 6
    assert counts[6:] == [0] * (len(counts) - 6)
    assert len(counts) == 22
    assert [r["t"] for r in seen[:3]] == [0.0, 0.5, 1.0]
    (violation,) = [r["violation"] for r in rows if "violation" in r]
    assert violation["kind"] == "no_face"
    assert violation["started_at"] == pytest.approx(3.0)
    assert violation["ended_at"] == pytest.approx(10.5)


def test_text_output_lists_observations_then_violations(env: dict[str, str], clip: Path) -> None:
    code, out, err = run(env, "face", "--clip", str(clip), "--seconds", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["0.00", "s", "count=1"]
    assert len(lines) == 6  # 0, 0.5, ... 2.0 s and the verdict
    assert lines[-1].startswith("no violation (no_face, multiple_faces")


def test_a_still_image_is_shown_for_seconds(env: dict[str, str], tmp_path: Path) -> None:
    photo = tmp_path / "coffee.png"
    with av.open(str(photo), "w", format="image2") as container:
        stream = container.add_stream("png")
        stream.width, stream.height = 600, 400
        stream.pix_fmt = "rgb24"
        container.mux(stream.encode(av.VideoFrame.from_ndarray(data.coffee(), format="rgb24")))
        container.mux(stream.encode(None))
    code, out, err = run(env, "face", "--clip", str(photo), "--seconds", "8", "--fps", "1")
    assert code == 0, err
    lines = out.splitlines()
    assert sum(" count=0 " in line for line in lines) == 9  # t = 0 .. 8
    assert lines[-1].startswith("violation no_face (high)")


def test_unknown_detector_lists_the_available_ones(env: dict[str, str], clip: Path) -> None:
    code, _out, err = run(env, "nosuch", "--clip", str(clip))
    assert code == 2
    assert "unknown detector 'nosuch'" in err
    assert "face" in err.split("available:")[1]


def test_missing_clip_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    code, _out, err = run(env, "face", "--clip", str(tmp_path / "nothing.mp4"))
    assert code == 2
    assert "no such file" in err


def test_a_clip_that_is_not_media_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    junk = tmp_path / "notes.mp4"
    junk.write_text("not a video")
    code, _out, err = run(env, "face", "--clip", str(junk))
    assert code == 2
    assert "not a readable" in err


def test_an_audio_detector_needs_an_audio_stream(env: dict[str, str], clip: Path) -> None:
    code, _out, err = run(env, "audio", "--clip", str(clip))
    assert code in (1, 2), err  # 1 where the model cannot load here, else 2 for the clip
    assert "no audio stream" in err or "failed to load" in err


def test_an_audio_detector_hears_speech_in_a_wav(env: dict[str, str], tmp_path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed")
    wav = tmp_path / "speech.wav"
    sentence = "Please tell me the answer to question three, it is very important"
    subprocess.run([espeak, "-w", str(wav), sentence], check=True, capture_output=True)
    code, out, err = run(env, "audio", "--clip", str(wav), "--json")
    if code == 1:
        pytest.skip(f"the speech model cannot load here: {err}")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) >= 6  # clips of 0.5 s over ~4 s of speech
    assert sum(bool(r["speech"]) for r in rows) >= 5


BROKEN = """
from core.detectors import DetectorNeeds
from core.hookspecs import hookimpl


class Broken:
    name = "broken"
    needs = DetectorNeeds()

    def load(self):
        raise FileNotFoundError("weights broken.onnx are not installed")

    def detect(self, frames):
        return []


@hookimpl
def invigilator_register_detectors(services):
    return [Broken()]
"""


def test_a_detector_that_fails_to_load_says_why_and_exits_1(
    env: dict[str, str], clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "try_broken_detector.py").write_text(BROKEN)
    monkeypatch.syspath_prepend(str(tmp_path))
    write_plugins_file(tmp_path, modules=("try_broken_detector",))
    code, out, err = run(env, "broken", "--clip", str(clip))
    assert code == 1
    assert "failed to load: FileNotFoundError: weights broken.onnx are not installed" in err
    assert out == ""


@pytest.mark.parametrize("rotate", [90, 270])
def test_a_phone_recording_reaches_detectors_upright(tmp_path: Path, rotate: int) -> None:
    """Phones store portrait video sideways with a display rotation; detectors must see what a
    viewer sees (FFmpeg's own auto-rotation is the reference), not a face lying on its side."""
    from webapp.plugins_try import video_frames  # noqa: PLC0415

    sideways = write_clip(tmp_path / "sideways.mp4", [(np.rot90(data.astronaut()), 1)])
    tagged = tmp_path / "tagged.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(sideways), "-c", "copy",
         "-metadata:s:v:0", f"rotate={rotate}", str(tagged)],
        check=True,
    )  # fmt: skip
    reference = tmp_path / "reference.png"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(tagged), "-frames:v", "1",
         str(reference)],
        check=True,
    )  # fmt: skip
    with av.open(str(reference)) as container:
        expected = next(container.decode(video=0)).to_ndarray(format="bgr24")
    _, first = next(video_frames(tagged, 0.5, None))
    unrotated = next(video_frames(sideways, 0.5, None))[1]
    assert first.shape == expected.shape
    assert float(np.abs(first.astype(float) - expected).mean()) < 2.0
    assert float(np.abs(unrotated.astype(float) - expected).mean()) > 20.0  # the test can fail
