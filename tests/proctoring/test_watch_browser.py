"""watch.js in Chromium: a proctor's page shows the candidate's picture relayed by the server,
and watches again by itself when the candidate reconnects (which closes every watcher)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from core.settings import Settings
from media.peer import PeerRegistry
from plugins.proctoring.plugin import registry_for
from storage.tables.user import Role, User
from tests.accounts.browser_kit import Console, Server, live_server, sign_in, until
from tests.exams.support import Client
from tests.proctoring.test_loopback import wait_for
from tests.proctoring.watching import LEFT, RIGHT, TOLERANCE, candidate_offer
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]

START = """async (attemptId) => {
  const { watch } = await import("/static/proctoring/watch.js");
  const video = document.createElement("video");
  document.body.append(video);
  window.watchStates = [];
  window.watchVideo = video;
  window.watching = await watch(attemptId, video, {
    onState: (state) => window.watchStates.push(state),
  });
}"""

# The colour at the middle of the left and of the right quarter, as [r, g, b].
SAMPLE = """() => {
  const video = window.watchVideo;
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(video, 0, 0);
  const at = (x) => Array.from(context.getImageData(x, canvas.height >> 1, 1, 1).data).slice(0, 3);
  return [at(canvas.width >> 2), at((canvas.width * 3) >> 2)];
}"""

AUDIO_PACKETS = """async () => {
  let packets = 0;
  (await window.watching.pc.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "audio") packets += report.packetsReceived;
  });
  return packets;
}"""


@pytest.fixture
async def server(settings: Settings, client: Client) -> AsyncIterator[Server]:
    async with live_server(settings) as running:
        yield running


async def publish(registry: PeerRegistry, attempt: str, candidate: User) -> RTCPeerConnection:
    """The candidate's connection, made straight on the server's registry (same event loop)."""
    pc, sdp = await candidate_offer()
    answer = await registry.answer(attempt, sdp, user_id=str(candidate.id))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return pc


def close_to(rgb: list[int], bgr: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < TOLERANCE for a, b in zip(rgb, reversed(bgr), strict=True))


async def shows_the_candidate(page: Any) -> None:
    """Poll the picture: the first frames can be black while the decoder starts."""
    samples = []
    for _ in range(100):
        left, right = await page.evaluate(SAMPLE)
        if close_to(left, LEFT) and close_to(right, RIGHT):
            return
        samples.append((left, right))
        await asyncio.sleep(0.1)
    raise AssertionError(f"the page never showed the candidate's colours: {samples[-3:]}")


async def test_the_page_shows_the_candidate_and_rewatches_after_a_reconnect(
    server: Server, candidate: User, attempt_id: str
) -> None:
    registry = registry_for(server.services)
    assert registry is not None
    proctor = await server.user(Role.PROCTOR)
    console = Console()
    candidates: list[Any] = []
    args = [
        *CHROMIUM_ARGS,
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]
    async with async_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = console.watch(await browser.new_page())
            await sign_in(page, server.base, proctor.email)
            await page.wait_for_url(lambda url: "/login" not in url)

            # Nobody publishes yet: the page waits (404) and retries by itself.
            await page.evaluate(START, attempt_id)
            await until(page, "window.watchStates.includes('waiting')")
            candidates.append(await publish(registry, attempt_id, candidate))
            await until(page, "window.watchVideo.videoWidth > 0", timeout=30)
            await shows_the_candidate(page)
            await until(page, f"({AUDIO_PACKETS})().then((n) => n > 10)")
            peer = registry.get(attempt_id)
            assert peer is not None
            assert list(peer.watchers) == [str(proctor.id)]
            assert await page.evaluate("window.watchVideo.muted")

            # The candidate reconnects: the server closes the watcher, the page watches again.
            candidates.append(await publish(registry, attempt_id, candidate))
            new = registry.get(attempt_id)
            assert new is not None
            assert new is not peer
            assert peer.watchers == {}
            await wait_for(lambda: list(new.watchers) == [str(proctor.id)], timeout=30)
            await until(page, "window.watchStates.at(-1) === 'connected'", timeout=30)
            await shows_the_candidate(page)

            await page.evaluate("window.watching.stop()")
            await wait_for(lambda: new.watchers == {})
            assert await page.evaluate("window.watchStates.at(-1)") == "closed"

            # Leaving the page ends the watch without the page's own code calling stop().
            await page.evaluate(START, attempt_id)
            await until(page, "window.watchStates.at(-1) === 'connected'", timeout=30)
            assert list(new.watchers) == [str(proctor.id)]
            await page.goto(f"{server.base}/")
            await wait_for(lambda: new.watchers == {})
        finally:
            await browser.close()
            for pc in candidates:
                await pc.close()
    assert console.problems == [], console.problems
    assert registry.watchers_created == registry.watchers_released
