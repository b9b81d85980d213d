"""The live-proctoring promise end to end, with a real browser on each side.

Chromium's fake camera plays a real portrait, then an empty desk (one clip: the face for a few
seconds, then the desk). The candidate takes a proctored exam on the real exam page, whose
proctoring widget publishes the camera; face observations arrive; when the desk shows, a
no-face violation reaches a proctor's WebSocket and the review page; switching to another tab
arrives as telemetry and becomes a violation too.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.settings import Settings
from plugins.proctoring.consent import CONSENT_VERSION
from plugins.proctoring.tables import ProctoringConsent
from storage.tables.user import Role
from tests.accounts.browser_kit import (
    HAVE_FFMPEG,
    Console,
    Server,
    camera_args,
    live_server,
    sign_in,
)
from tests.exams.support import PASSWORD, Client, add_question, create_exam, fixed, start
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
    pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg is not installed"),
]

FACE_SECONDS = 6
POLICY = {
    "enabled": True,
    "analysis_fps": 2,
    "rules": {"no_face": {"min_duration_s": 2, "gap_s": 1}},
}


def face_then_desk(folder: Path) -> Path:
    """A y4m clip: a real portrait for FACE_SECONDS, then a desk without anyone, 60 s."""
    from PIL import Image  # noqa: PLC0415
    from skimage import data  # noqa: PLC0415  (heavy; only camera tests need it)

    face, desk, clip = folder / "face.png", folder / "desk.png", folder / "face_then_desk.y4m"
    Image.fromarray(data.astronaut()).save(face)  # type: ignore[no-untyped-call]
    Image.fromarray(data.coffee()).save(desk)  # type: ignore[no-untyped-call]
    scale = (
        "scale=640:480:force_original_aspect_ratio=decrease,"
        "pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p"
    )
    command = [
        "ffmpeg", "-loglevel", "error", "-y",
        "-loop", "1", "-t", str(FACE_SECONDS), "-i", str(face),
        "-loop", "1", "-t", "60", "-i", str(desk),
        "-filter_complex", f"[0]{scale}[a];[1]{scale}[b];[a][b]concat=n=2:v=1[v]",
        "-map", "[v]", "-r", "15", str(clip),
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=120)
    return clip


@pytest.fixture
async def server(settings: Settings, client: Client) -> AsyncIterator[Server]:
    async with live_server(settings) as running:
        yield running


async def bearer(base: str, email: str) -> str:
    form = {"grant_type": "password", "username": email, "password": PASSWORD}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/api/v1/auth/token", data=form) as response,
    ):
        assert response.status == 200, await response.text()
        return str((await response.json())["access_token"])


async def next_message(ws: aiohttp.ClientWebSocketResponse, want: Any, timeout: float) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        assert left > 0, "timed out waiting for the proctor feed"
        message = await ws.receive_json(timeout=left)
        if want(message):
            return message


async def test_camera_to_proctor_feed_and_review_page(
    server: Server, client: Client, tmp_path: Path
) -> None:
    services = server.services
    examiner = await server.user(Role.EXAMINER)
    candidate = await server.user(Role.CANDIDATE, name="Cara Candidate")
    proctor = await server.user(Role.PROCTOR)
    question = await add_question(services, "essay")
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        proctoring_policy=POLICY,
    )
    async with services.db.session() as db:
        db.add(
            ProctoringConsent(
                exam_id=exam["id"], user_id=candidate.id, text_version=CONSENT_VERSION
            )
        )
        await db.commit()
    attempt_id = str((await start(client, candidate, exam["id"]))["id"])

    token = await bearer(server.base, proctor.email)
    clip = face_then_desk(tmp_path)
    args = [*CHROMIUM_ARGS, *camera_args(clip), "--allow-loopback-in-peer-connection"]
    console = Console()
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http,
        http.ws_connect(f"{server.base}/api/v1/proctor/live?exam_id={exam['id']}") as ws,
        async_api.async_playwright() as pw,
    ):
        hello = await ws.receive_json(timeout=10)
        assert hello["type"] == "hello"
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            context = await browser.new_context()
            page = console.watch(await context.new_page())
            await page.goto(f"{server.base}/login?next=/exams/attempt/{attempt_id}")
            await sign_in(page, server.base, candidate.email)
            await page.wait_for_url(f"**/exams/attempt/{attempt_id}")

            # The widget publishes: the wall sees the candidate connected, faces are observed.
            await next_message(
                ws,
                lambda m: (
                    m["type"] == "tile"
                    and m["tile"]["attempt_id"] == attempt_id
                    and m["tile"]["connection"] == "connected"
                ),
                timeout=30,
            )
            # "Connected" is the peer's state; the first analysed frame follows it.
            for _ in range(100):
                faces = await services.events.query(
                    attempt_id=attempt_id, kinds=["observation.face"]
                )
                if faces:
                    break
                await asyncio.sleep(0.1)
            assert faces, "no face observation arrived"

            # The desk appears: a no-face violation reaches the proctor's WebSocket.
            alert = await next_message(
                ws,
                lambda m: m["type"] == "alert" and m["violation"]["kind"] == "no_face",
                timeout=FACE_SECONDS + 30,
            )
            assert alert["attempt_id"] == attempt_id
            seen = await services.events.query(attempt_id=attempt_id, kinds=["observation.face"])
            assert {e.data["count"] for e in seen} >= {0, 1}

            # Switching to another tab is telemetry, and a violation of its own. Headless
            # Chromium keeps every tab "visible", so the page is told what a real switch tells
            # it: its visibility state turns hidden and the event fires.
            other = await context.new_page()
            await other.goto(f"{server.base}/healthz")
            await other.bring_to_front()
            await page.evaluate(
                """() => {
                  Object.defineProperty(document, "visibilityState",
                    {value: "hidden", configurable: true});
                  document.dispatchEvent(new Event("visibilitychange"));
                }"""
            )
            hidden = await next_message(
                ws,
                lambda m: m["type"] == "alert" and m["violation"]["kind"] == "tab_hidden",
                timeout=20,
            )
            assert hidden["attempt_id"] == attempt_id
            telemetry = await services.events.query(
                attempt_id=attempt_id, kinds=["telemetry.visibility"]
            )
            assert any(e.data.get("state") == "hidden" for e in telemetry)
            await page.bring_to_front()
            await page.evaluate(
                """() => {
                  Object.defineProperty(document, "visibilityState",
                    {value: "visible", configurable: true});
                  document.dispatchEvent(new Event("visibilitychange"));
                }"""
            )

            # The review page shows the violations to a proctor in words.
            staff = await browser.new_context()
            review = console.watch(await staff.new_page())
            await review.goto(f"{server.base}/login?next=/proctor/review/{attempt_id}")
            await sign_in(review, server.base, proctor.email)
            await review.wait_for_url(f"**/proctor/review/{attempt_id}")
            await async_api.expect(review.get_by_text("No face").first).to_be_visible(
                timeout=15_000
            )
            await async_api.expect(review.get_by_text("Left the exam tab").first).to_be_visible()
        finally:
            await browser.close()
    assert console.problems == [], console.problems
