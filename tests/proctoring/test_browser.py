"""Chromium publishes a fake camera (a real portrait), a fake microphone and telemetry to a
live server over loopback; the server's taps receive them and closing the page frees the peer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.settings import Settings
from media.sampler import FrameSampler
from plugins.proctoring.plugin import registry_for
from storage.tables.user import User
from tests.accounts.browser_kit import (
    HAVE_FFMPEG,
    Console,
    Server,
    camera_args,
    live_server,
    make_face_video,
    sign_in,
)
from tests.exams.support import Client
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
    pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg is not installed"),
]


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll ``check`` (plain or async) until it gives something other than None/False/empty."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value is not None and (isinstance(value, np.ndarray) or value):
            return value
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


@pytest.fixture
async def server(settings: Settings, client: Client) -> AsyncIterator[Server]:
    async with live_server(settings) as running:
        yield running


async def test_browser_publishes_camera_audio_and_telemetry(
    server: Server, candidate: User, attempt_id: str, tmp_path: Path
) -> None:
    y4m = make_face_video(tmp_path)
    args = [*CHROMIUM_ARGS, *camera_args(y4m), "--allow-loopback-in-peer-connection"]
    registry = registry_for(server.services)
    assert registry is not None
    console = Console()
    async with async_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = console.watch(await browser.new_page())
            await page.goto(f"{server.base}/login?next=/proctoring/check/{attempt_id}")
            await sign_in(page, server.base, candidate.email)
            await page.wait_for_url(f"**/proctoring/check/{attempt_id}")
            await async_api.expect(page.locator("#rtc-state")).to_have_text(
                "connected", timeout=20_000
            )
            peer = registry.get(attempt_id)
            assert peer is not None
            assert peer.user_id == str(candidate.id)
            await eventually(lambda: peer.video and peer.video[0].received >= 5)
            sampler = FrameSampler(registry, fps=2)
            array = await eventually(lambda: sampler.sample(attempt_id))
            assert array.shape == (480, 640, 3)
            assert array.std() > 20  # a photo, not a blank frame
            await eventually(lambda: peer.audio and peer.audio[0].chunks >= 5)
            assert all(c.shape == (512,) for c in peer.audio[0].drain())

            await page.evaluate("() => window.dispatchEvent(new Event('blur'))")
            await page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")

            async def telemetry() -> list[str]:
                events = await server.services.events.query(
                    attempt_id=attempt_id, kind_prefix="telemetry."
                )
                return sorted({e.kind for e in events})

            async def both() -> bool:
                return {"telemetry.blur", "telemetry.visibility"} <= set(await telemetry())

            await eventually(both)

            await page.close()
            await eventually(lambda: not registry.peers, timeout=40)
        finally:
            await browser.close()
    assert console.problems == [], console.problems
