"""The live-streams benchmark's own parts, without a server: its clips hold what the latency
measurement relies on (a face, then none, each starting on a keyframe), a candidate's track turns
scenes at the planned moments, and alerts are matched to the right empty stretch."""

from __future__ import annotations

import importlib
import itertools
import shutil
import sys
from pathlib import Path

import av
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
senders = importlib.import_module("stream_senders")
streams = importlib.import_module("streams")


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_clips_show_a_face_then_none_and_start_on_keyframes(tmp_path: Path) -> None:
    from core.detectors import Frame  # noqa: PLC0415
    from plugins.detectors.face.plugin import FaceConfig, FaceDetector  # noqa: PLC0415

    media = senders.prepare_media(tmp_path, "vp8")
    detector = FaceDetector(FaceConfig())
    detector.load()
    for scene, faces in (("face", 1), ("empty", 0)):
        packets = senders.read_packets(media[scene])
        assert len(packets) == senders.SEGMENT_FRAMES
        assert packets[0][1], "a clip must start on a keyframe so a candidate can jump to it"
        with av.open(media[scene]) as container:
            frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
        assert frames[0].shape == (senders.HEIGHT, senders.WIDTH, 3)
        seen = detector.detect([Frame("a", 0.0, image) for image in frames[::10]])
        assert {o.values["count"] for o in seen} == {faces}
    assert len(senders.read_packets(media["audio"])) >= 40  # a second of 20 ms Opus packets


async def test_a_track_turns_scenes_at_the_planned_moments(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(senders.time, "time", lambda: clock[0])
    face, empty = [b"f0", b"f1", b"f2"], [b"e0", b"e1"]
    track = senders.ClipTrack(face, empty)
    track.period = 0.0  # no pacing: the clock above decides
    switched: list[tuple[float, str]] = []
    track.on_switch = lambda at, scene: switched.append((at, scene))
    track.toggles = [1000.5, 1001.0]

    sent = []
    for _ in range(5):
        packet = await track.recv()
        sent.append((bytes(packet), packet.pts))
        clock[0] += 0.25
    assert [payload for payload, _ in sent] == [b"f0", b"f1", b"e0", b"e1", b"f0"]
    assert [pts for _, pts in sent] == [0, 6000, 12000, 18000, 24000]  # 90 kHz, 15 fps
    assert switched == [(1000.5, "empty"), (1001.0, "face")]


def test_alerts_are_matched_to_the_empty_stretch_they_belong_to() -> None:
    switches = {"a1": [(10.0, "empty"), (13.0, "face"), (16.0, "empty"), (19.0, "face")]}

    def alert(received: float, started: float, kind: str = "no_face") -> tuple[float, dict]:
        violation = {"kind": kind, "started_at": started}
        return received, {"type": "alert", "attempt_id": "a1", "violation": violation}

    alerts = [
        alert(9.0, 8.9),  # a glitch before the first stretch: not a measurement
        alert(10.4, 10.3),
        alert(10.6, 10.5, kind="multiple_faces"),
        alert(10.9, 10.8),  # a second alert in the same stretch: the first one counts
    ]
    latencies, missing = streams.alert_latencies(switches, alerts)
    assert latencies == [pytest.approx(0.4)]
    assert missing == 1  # nothing for the stretch that began at 16.0


def test_the_plan_staggers_candidates_inside_the_window() -> None:
    plan = streams.toggle_plan(["a", "b", "c", "d"], (100.0, 130.0), seed=1)
    firsts = sorted(times[0] for times in plan.values())
    assert len(set(firsts)) == 4
    for times in plan.values():
        assert times == sorted(times)
        assert times[0] > 100.0
        assert times[-1] < 130.0 - streams.HALF_CYCLE_S
        gaps = {round(b - a, 3) for a, b in itertools.pairwise(times)}
        assert gaps == {streams.HALF_CYCLE_S}
    assert streams.marks([0.1, 0.2, 0.3, 0.4]) == {"p50": 200, "p95": 400, "max": 400, "n": 4}
