"""The example plugin package in examples/glare-detector loads like any third-party plugin.

It is not part of the product, so it is put on ``sys.path`` here (as ``pip install -e`` would)
and named in ``plugins.toml`` ``modules``; the server must then register its section, detector
and rule, and the detector must say something about a real photograph.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from core import policy
from core.detectors import Frame
from core.settings import load_settings
from webapp.app import load_plugin_manager
from webapp.plugins_try import build_detectors

data = pytest.importorskip("skimage.data")
SOURCE = Path(__file__).resolve().parents[2] / "examples" / "glare-detector" / "src"


@pytest.fixture
def example_on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(SOURCE))
    # the example's rule joins the process-wide catalogue: leave it as it was for other tests
    monkeypatch.setattr(policy, "_catalogue", dict(policy._catalogue))
    yield
    for name in [m for m in sys.modules if m.startswith("invigilator_glare")]:
        del sys.modules[name]  # imported from a path that is gone again


def test_the_example_registers_its_detector_and_rule(example_on_path: None, tmp_path: Path) -> None:
    plugins = tmp_path / "plugins.toml"
    plugins.write_text(
        "[plugins]\nentry_points = false\nmodules = ['invigilator_glare.plugin']\n\n"
        "[detector_glare]\nmax_share = 0.2\n"
    )
    settings = load_settings(data_dir=tmp_path / "var", plugins_file=plugins)
    pm = load_plugin_manager(settings)
    assert not pm.failed(), [r.reason for r in pm.failed()]
    assert pm.records["invigilator_glare.plugin"].source == "config"
    assert "camera_glare" in {rule.kind for rule in policy.catalogue()}
    assert pm.sections["detector_glare"].model_dump()["max_share"] == 0.2

    detectors, failures = build_detectors(settings, pm)
    assert not failures
    (glare,) = [d for d in detectors if d.name == "glare"]
    glare.load()
    width, height = glare.needs.input_size or (0, 0)
    photo = cv2.resize(np.ascontiguousarray(data.astronaut()[:, :, ::-1]), (width, height))
    (seen,) = glare.detect([Frame("a", 1.0, photo)])
    assert seen.detector == "glare"
    assert seen.values["glare"] is False
    assert 0.0 <= seen.values["bright_share"] < 0.2
