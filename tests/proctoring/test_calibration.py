"""Gaze calibration during the system check: the endpoint measures a candidate's neutral pose
from what the gaze detector saw over a real WebRTC check connection, stores it, and the
candidate's attempt is then analysed relative to it."""

from __future__ import annotations

import asyncio
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from core.detectors import Observation
from core.services import Services
from core.settings import Settings
from plugins.detectors.gaze import plugin as gaze
from plugins.proctoring import calibration, consent
from plugins.proctoring.calibration import Baseline, centred, median_baseline, usable
from plugins.proctoring.candidate_api import check_key
from plugins.proctoring.plugin import analysis_for
from storage.tables.user import User
from tests.exams.support import Client, add_question, create_exam, fixed, headers, start
from tests.proctoring.live_kit import FACE, Switchable

data = pytest.importorskip("skimage.data")

# The cameraman faces the right of the picture, looking into his viewfinder: not at a screen.
AWAY = cv2.resize(np.repeat(data.camera()[0:250, 150:400, None], 3, axis=2), FACE.shape[1::-1])
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PRECHECK = "document.getElementById('precheck').dataset"


@pytest.fixture
async def exam_id(client: Client, services: Services, examiner: User, candidate: User) -> int:
    question = await add_question(services, "essay")
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        proctoring_policy={"enabled": True, "analysis_fps": 4},
    )
    assert candidate.id is not None
    async with services.db.session() as db:
        await consent.record_consent(db, int(exam["id"]), candidate.id, "127.0.0.1")
    return int(exam["id"])


async def call(client: Client, method: str, url: str, user: User) -> tuple[int, Any]:
    response = await client.request(method, url, headers=headers(user))
    return response.status, await response.json(content_type=None)


async def connect(client: Client, user: User, url: str, track: Switchable) -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(track)
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
    response = await client.post(url, json=offer, headers=headers(user))
    assert response.status == 200, await response.text()
    await pc.setRemoteDescription(RTCSessionDescription(**await response.json()))
    return pc


async def until(predicate: Any, what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def seen(values: dict[str, Any], ts: float) -> Observation:
    return Observation(attempt_id="check-1-2", ts=ts, detector="gaze", values=values)


FACE_VALUES = {"face": True, "yaw": 4.0, "pitch": -12.0, "gaze_x": 0.1, "gaze_y": -0.05}


# -- the pure parts -----------------------------------------------------------------------------


def test_the_median_outvotes_a_glance_away() -> None:
    rows = [
        seen({**FACE_VALUES, "yaw": 3.0}, 1.0),
        seen({**FACE_VALUES, "yaw": 5.0, "gaze_x": 0.2}, 2.0),
        seen({**FACE_VALUES, "yaw": 60.0, "pitch": -50.0, "gaze_x": 1.0}, 3.0),  # a glance
        seen({**FACE_VALUES, "yaw": 4.0}, 4.0),
    ]
    baseline = median_baseline(rows, NOW)
    assert baseline is not None
    assert (baseline.yaw, baseline.pitch, baseline.gaze_x) == (4.5, -12.0, 0.15)
    assert baseline.samples == 4
    assert baseline.measured_at == NOW
    assert median_baseline(rows[:2], NOW) is None  # too few to trust


def test_only_fresh_uncalibrated_faces_count() -> None:
    now = 100.0
    assert usable(seen(FACE_VALUES, now - 0.5), now)
    assert not usable(None, now)
    assert not usable(seen(FACE_VALUES, now - 10), now)  # stale
    assert not usable(seen({**FACE_VALUES, "face": False}, now), now)
    assert not usable(seen({**FACE_VALUES, "calibrated": True}, now), now)
    assert not usable(seen({**FACE_VALUES, "yaw": None}, now), now)
    assert not usable(seen({**FACE_VALUES, "pitch": True}, now), now)


def test_a_neutral_pose_must_look_at_the_screen() -> None:
    def pose(**changes: float) -> Baseline:
        values = {"yaw": 0.0, "pitch": -12.0, "gaze_x": 0.0, "gaze_y": 0.0, **changes}
        return Baseline(**values, samples=5, measured_at=NOW)

    assert centred(pose())
    assert centred(pose(yaw=-24.0, pitch=-34.0))
    assert not centred(pose(yaw=30.0))
    assert not centred(pose(pitch=-40.0))  # calibrating while looking at one's lap
    assert not centred(pose(gaze_y=-0.7))


async def test_sampling_keeps_each_new_observation_once() -> None:
    started = time.time()
    older = seen(FACE_VALUES, started - 0.5)  # from before the candidate was asked to look
    fresh = [seen(FACE_VALUES, started + 0.01 * i) for i in range(1, 4)]
    answers = iter([older, fresh[0], fresh[0], None, fresh[1], fresh[2], fresh[2]])
    got = await calibration.sample(lambda: next(answers, fresh[2]), 0.5)
    assert [o.ts for o in got] == [o.ts for o in fresh]


async def test_baseline_storage_and_the_attempt_context(services: Services) -> None:
    assert await calibration.load_baseline(services, 5, 9) is None
    assert await gaze.invigilator_attempt_context(services, "a1", 5, 9) is None
    baseline = Baseline(yaw=2.5, pitch=-14.0, gaze_x=0.05, gaze_y=-0.1, samples=6, measured_at=NOW)
    await calibration.save_baseline(services, 5, 9, baseline)
    expected = {"yaw": 2.5, "pitch": -14.0, "gaze_x": 0.05, "gaze_y": -0.1}
    assert await calibration.load_baseline(services, 5, 9) == expected
    assert await gaze.invigilator_attempt_context(services, "a1", 5, 9) == {
        "gaze.baseline": expected
    }
    assert await calibration.load_baseline(services, 5, 10) is None  # per candidate
    assert await calibration.load_baseline(services, 6, 9) is None  # and per exam
    await services.blobs.put(calibration.blob_key(5, 9), b"{not json")
    assert await calibration.load_baseline(services, 5, 9) is None


# -- the endpoint -------------------------------------------------------------------------------


async def test_calibrating_over_a_check_connection_then_the_attempt_is_relative_to_it(
    client: Client, services: Services, candidate: User, exam_id: int
) -> None:
    assert candidate.id is not None
    camera = Switchable()
    url = f"/api/v1/exams/{exam_id}/rtc/check"
    status, body = await call(client, "POST", f"{url}/calibrate", candidate)
    assert status == 409, body  # no check connection yet
    assert body["error"]["code"] == "not_ready"
    assert body["error"]["request_id"]

    analysis = analysis_for(services)
    assert analysis is not None
    assert "gaze" in analysis.pipeline.detectors
    key = check_key(exam_id, candidate.id)
    camera.image = AWAY
    pc = await connect(client, candidate, url, camera)
    try:
        # Looking elsewhere while asked to look at the screen is refused, and nothing stored.
        await until(lambda: usable(analysis.latest(key, "gaze"), time.time()), "a gaze")
        status, body = await call(client, "POST", f"{url}/calibrate", candidate)
        assert status == 409, body
        assert body["error"]["code"] == "not_centered"
        assert await calibration.load_baseline(services, exam_id, candidate.id) is None

        camera.image = FACE

        def facing() -> bool:
            latest = analysis.latest(key, "gaze")
            return (
                usable(latest, time.time())
                and latest is not None
                and (latest.values["direction"] == "center")
            )

        await until(facing, "the face looking at the camera")
        status, body = await call(client, "POST", f"{url}/calibrate", candidate)
    finally:
        await pc.close()
    assert status == 200, body
    assert body["exam_id"] == exam_id
    assert body["samples"] >= calibration.MIN_SAMPLES
    assert abs(body["yaw"]) < 10
    assert -30 < body["pitch"] < 5
    stored = await calibration.load_baseline(services, exam_id, candidate.id)
    assert stored == {key: body[key] for key in ("yaw", "pitch", "gaze_x", "gaze_y")}
    assert await services.events.query(attempt_id=key) == []  # a check records nothing
    await client.delete(url, headers=headers(candidate))

    # The attempt: the same face now reads as the candidate's neutral pose, calibrated.
    attempt_id = str((await start(client, candidate, exam_id))["id"])
    pc = await connect(client, candidate, f"/api/v1/attempts/{attempt_id}/rtc/offer", Switchable())
    try:
        calibrated: list[dict[str, Any]] = []

        async def wait_calibrated() -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while not calibrated:
                assert loop.time() < deadline, "no calibrated gaze observation arrived"
                await asyncio.sleep(0.2)
                events = await services.events.query(
                    attempt_id=attempt_id, kinds=["observation.gaze"]
                )
                calibrated[:] = [e.data for e in events if e.data.get("calibrated")]

        await wait_calibrated()
    finally:
        await pc.close()
    observation = calibrated[0]
    assert observation["face"] is True
    assert observation["direction"] == "center"
    assert abs(observation["yaw"]) < 5
    assert abs(observation["pitch"]) < 5


async def test_others_and_servers_without_gaze(
    client: Client,
    services: Services,
    candidates: list[User],
    exam_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner, stranger = candidates[0], candidates[1]
    for exam in (exam_id, 999_999, "abc"):
        status, body = await call(
            client, "POST", f"/api/v1/exams/{exam}/rtc/check/calibrate", stranger
        )
        assert status == 404, (exam, body)
        assert body["error"]["code"] == "not_found"
    monkeypatch.setattr(calibration, "DETECTOR", "no-such-detector")
    status, body = await call(client, "POST", f"/api/v1/exams/{exam_id}/rtc/check/calibrate", owner)
    assert status == 409
    assert body["error"]["code"] == "gaze_unavailable"


# -- the check page -------------------------------------------------------------------------------


def face_video(folder: Path) -> Path:
    """A fake camera of the astronaut at her own aspect ratio (a face stretched to 4:3 is
    foreshortened vertically, which reads as a head bowed 40°), framed in 640x480."""
    from PIL import Image  # noqa: PLC0415

    png, y4m = folder / "face.png", folder / "face.y4m"
    Image.fromarray(data.astronaut()).save(png)
    framing = "scale=480:480,pad=640:480:80:0,format=yuv420p"
    command = ["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(png), "-vf",
               framing, "-r", "15", "-t", "2", str(y4m)]  # fmt: skip
    subprocess.run(command, check=True, timeout=60)
    return y4m


@pytest.mark.browser
async def test_the_check_page_calibrates_once_every_check_passed(
    settings: Settings, client: Client, examiner: User, candidate: User, tmp_path: Path
) -> None:
    from tests.accounts.browser_kit import (  # noqa: PLC0415 (browser tests only)
        HAVE_FFMPEG,
        Console,
        camera_args,
        live_server,
        sign_in,
    )
    from tests.accounts.browser_kit import until as page_until  # noqa: PLC0415
    from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM  # noqa: PLC0415

    if not (HAVE_CHROMIUM and HAVE_FFMPEG):
        pytest.skip("chromium and ffmpeg are needed")
    async_api = pytest.importorskip("playwright.async_api")
    assert candidate.id is not None
    async with live_server(settings) as server:
        question = await add_question(server.services, "essay")
        exam = await create_exam(
            client,
            examiner,
            sections=[fixed(question)],
            candidates=[candidate],
            proctoring_policy={"enabled": True},
        )
        exam_id = int(exam["id"])
        async with server.services.db.session() as db:
            await consent.record_consent(db, exam_id, candidate.id, "127.0.0.1")
        y4m = face_video(tmp_path)
        args = [*CHROMIUM_ARGS, *camera_args(y4m), "--allow-loopback-in-peer-connection"]
        console = Console()
        async with async_api.async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=args)
            try:
                page = console.watch(await browser.new_page())
                await page.goto(f"{server.base}/login?next=/exams")
                await sign_in(page, server.base, candidate.email)
                await page.wait_for_url(f"{server.base}/exams")
                await page.goto(f"{server.base}/exams/{exam_id}/check")
                await page_until(page, f"{PRECHECK}.ready === 'true'", 40)
                box = page.locator("#calibrate")
                await async_api.expect(box).to_be_visible()
                await async_api.expect(
                    page.get_by_role("heading", name="Look at the centre of the screen")
                ).to_be_visible()
                finished = f"['done', 'failed'].includes({PRECHECK}.calibration)"
                await page_until(page, finished, 30)
                status = page.locator("#calibrate-status")
                await async_api.expect(status).to_contain_text("Done.")
                first = await calibration.load_baseline(server.services, exam_id, candidate.id)
                assert first is not None
                # Start stays available throughout; calibrating again replaces the baseline.
                start_button = page.get_by_role("button", name="Start exam")
                await async_api.expect(start_button).to_have_attribute("aria-disabled", "false")
                await page.get_by_role("button", name="Calibrate again").click()
                await page_until(page, f"{PRECHECK}.calibration === 'running'")
                await page_until(page, finished, 30)
                await async_api.expect(status).to_contain_text("Done.")
                blob = await server.services.blobs.stat(calibration.blob_key(exam_id, candidate.id))
                assert blob.size > 0
            finally:
                await browser.close()
        assert console.problems == [], console.problems
