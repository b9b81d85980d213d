"""``invigilator eval``: the manifest format, the precision/recall arithmetic and the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugins.evaluation.manifest import ManifestError, load_manifest
from plugins.evaluation.metrics import score


def write(folder: Path, manifest: object) -> Path:
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_a_valid_manifest_loads(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"x")
    clip = {"name": "c", "frames": [{"image": "a.png", "seconds": 6}],
            "labels": [{"kind": "no_face", "start": 0, "end": 6}]}  # fmt: skip
    manifest = load_manifest(write(tmp_path, {"clips": [clip]}))
    assert manifest.clips[0].fps == 2.0
    assert manifest.clips[0].labels[0].kind == "no_face"


@pytest.mark.parametrize(
    ("clips", "message"),
    [
        ([], "clips"),
        ([{"name": "c"}], "no frames, video or audio"),
        ([{"name": "c", "audio": "a.png", "labels": [{"kind": "x", "start": 5, "end": 1}]}],
         "ends (1.0) before it starts"),
        ([{"name": "c", "audio": "a.png"}, {"name": "c", "audio": "a.png"}], "used twice"),
        ([{"name": "c", "audio": "gone.wav"}], "missing files: c: gone.wav"),
        ([{"name": "c", "audio": "a.png", "colour": 1}], "Extra inputs"),
    ],
)  # fmt: skip
def test_invalid_manifests_say_why(tmp_path: Path, clips: list[object], message: str) -> None:
    (tmp_path / "a.png").write_bytes(b"x")
    with pytest.raises(ManifestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_manifest(write(tmp_path, {"clips": clips}))


def test_a_folder_without_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no manifest\.json"):
        load_manifest(tmp_path)


def test_toml_manifests_are_read(tmp_path: Path) -> None:
    (tmp_path / "s.wav").write_bytes(b"x")
    (tmp_path / "manifest.toml").write_text(
        '[[clips]]\nname = "c"\naudio = "s.wav"\n', encoding="utf-8"
    )
    assert load_manifest(tmp_path).clips[0].audio == "s.wav"


def test_precision_and_recall_by_hand() -> None:
    labels = [(0.0, 6.0), (20.0, 30.0), (50.0, 55.0)]
    predicted = [(1.0, 7.0), (2.0, 3.0), (31.5, 33.0), (40.0, 41.0)]
    # tolerance 2: (31.5, 33) touches (20, 30); (40, 41) touches nothing; (50, 55) is missed
    result = score(labels, predicted, tolerance=2.0)
    assert (result.labels, result.found, result.predicted, result.right) == (3, 2, 4, 3)
    assert result.recall == pytest.approx(2 / 3)
    assert result.precision == pytest.approx(3 / 4)
    strict = score(labels, predicted, tolerance=0.0)
    assert (strict.found, strict.right) == (1, 2)


def test_no_labels_or_no_predictions_have_no_ratio() -> None:
    assert score([], [(1.0, 2.0)], 1.0).recall is None
    assert score([], [(1.0, 2.0)], 1.0).precision == 0.0
    assert score([(1.0, 2.0)], [], 1.0).precision is None
    assert score([(1.0, 2.0)], [], 1.0).recall == 0.0


def test_the_command_scores_a_face_then_empty_clip() -> None:
    pytest.importorskip("skimage.data")
    pytest.importorskip("mediapipe")
    from webapp.cli import main  # noqa: PLC0415

    args = ["eval", "--detector", "face", "--clip", "face_then_empty", "--json"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert {"detectors", "violations", "clips", "failed", "tolerance_s"} <= set(report)
    assert report["violations"]["no_face"]["recall"] == 1.0
    assert report["violations"]["no_face"]["precision"] == 1.0
    assert report["detectors"]["face"]["calls"] == 24
    assert {"mean_ms", "p95_ms"} <= set(report["detectors"]["face"])
    (clip,) = report["clips"]
    assert [v["kind"] for v in clip["violations"]] == ["no_face"]
    assert 5.5 <= clip["violations"][0]["start"] <= 7.0
