"""The glare detector on real photographs, its rule, and the plugin end to end through
``invigilator plugins try`` (which builds it from plugins.toml exactly as the server does)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from invigilator_glare.plugin import GLARE_RULE, INPUT_SIZE, GlareConfig, GlareDetector

from core.detectors import Frame
from core.rules import AttemptRules
from webapp.cli import main

data = pytest.importorskip("skimage.data")
transform = pytest.importorskip("skimage.transform")


def overexposed(rgb: np.ndarray, gain: float = 2.5) -> np.ndarray:
    """The photo as a camera facing a window sees it: everything bright burns out to white."""
    return np.clip(rgb.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def frame(rgb: np.ndarray, attempt: str = "a", ts: float = 1.0) -> Frame:
    """What the scheduler hands the detector: BGR, scaled to its ``input_size``."""
    width, height = INPUT_SIZE
    small = transform.resize(rgb, (height, width), preserve_range=True, anti_aliasing=True)
    return Frame(attempt, ts, np.ascontiguousarray(small.astype(np.uint8)[:, :, ::-1]))


@pytest.fixture(scope="module")
def detector() -> GlareDetector:
    glare = GlareDetector(GlareConfig())
    glare.load()
    return glare


@pytest.mark.parametrize("photo", ["astronaut", "coffee", "rocket", "chelsea"])
def test_ordinary_photos_are_not_glare(detector: GlareDetector, photo: str) -> None:
    (seen,) = detector.detect([frame(getattr(data, photo)())])
    assert seen.values["glare"] is False
    assert seen.values["bright_share"] < 0.05
    assert (seen.attempt_id, seen.ts, seen.detector) == ("a", 1.0, "glare")


@pytest.mark.parametrize("photo", ["astronaut", "camera"])
def test_a_burnt_out_picture_is_glare(detector: GlareDetector, photo: str) -> None:
    rgb = getattr(data, photo)()
    rgb = rgb if rgb.ndim == 3 else np.repeat(rgb[:, :, None], 3, axis=2)
    (seen,) = detector.detect([frame(overexposed(rgb))])
    assert seen.values["glare"] is True
    assert seen.values["bright_share"] >= 0.3


def test_a_batch_keeps_each_frame_with_its_attempt(detector: GlareDetector) -> None:
    astronaut = data.astronaut()
    seen = detector.detect([frame(astronaut, "x", 1.0), frame(overexposed(astronaut), "y", 2.0)])
    assert [(o.attempt_id, o.ts, o.values["glare"]) for o in seen] == [
        ("x", 1.0, False),
        ("y", 2.0, True),
    ]


def test_the_threshold_is_configurable() -> None:
    strict = GlareDetector(GlareConfig(max_share=0.005))
    (seen,) = strict.detect([frame(data.astronaut())])  # its white suit is ~1 % of the picture
    assert seen.values["glare"] is True


def test_lasting_glare_raises_the_rule_a_reflection_does_not(detector: GlareDetector) -> None:
    bright, normal = frame(overexposed(data.astronaut())), frame(data.astronaut())
    rules = AttemptRules("a", [GLARE_RULE])
    started = []
    for second in range(12):  # 2 s of glare (a reflection), 2 s normal, then 8 s of glare
        source = bright if second < 2 or second >= 4 else normal
        (seen,) = detector.detect([Frame("a", float(second), source.image)])
        values = {**seen.values, "confidence": seen.confidence}
        started += [c.violation for c in rules.feed("observation.glare", seen.ts, values)]
    (violation,) = [v for v in started if v.kind == "camera_glare"]
    assert violation.started_at == 4.0
    assert violation.severity == "low"


def write_clip(path: Path, scenes: list[tuple[np.ndarray, int]], fps: int = 4) -> Path:
    """An MPEG-4 video of each ``(rgb photo, seconds)`` scene in turn."""
    height, width = scenes[0][0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        for rgb, seconds in scenes:
            for _ in range(seconds * fps):
                video_frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))
    return path


def test_plugins_try_builds_it_from_plugins_toml_and_raises_the_rule(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins.toml"
    plugins.write_text(
        "[plugins]\nentry_points = false\nmodules = ['invigilator_glare.plugin']\n\n"
        "[detector_glare]\ninterval_s = 0.5\n"
    )
    astronaut = data.astronaut()
    clip = write_clip(tmp_path / "lamp.mp4", [(astronaut, 2), (overexposed(astronaut), 8)])
    env = {"INVIGILATOR_PLUGINS_FILE": str(plugins), "INVIGILATOR_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(
        main, ["plugins", "try", "glare", "--clip", str(clip), "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    flags = [row["glare"] for row in rows if "violation" not in row]
    assert flags == [False] * 4 + [True] * 16  # two looks a second (interval_s = 0.5)
    (violation,) = [row["violation"] for row in rows if "violation" in row]
    assert (violation["kind"], violation["started_at"]) == ("camera_glare", 2.0)
