"""In Chromium, the servers that ice.js fetches (STUN plus TURN with fresh credentials) are
accepted as they are by ``new RTCPeerConnection``, and a failed fetch falls back to none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings, load_settings
from storage.tables.user import User
from tests.accounts.browser_kit import Console, Server, live_server, sign_in
from tests.exams.support import Client
from tests.proctoring.conftest import PROCTORING, write_plugins_file
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]

ENV = "INVIGILATOR_TEST_TURN_SECRET"
STUN = "stun:stun.example.org:3478"
TURN = "turn:turn.example.org:3478?transport=udp"

# Builds a connection the way publish.js and watch.js do, without gathering (which would wait
# for the unreachable example servers), and reads back what the browser kept.
CONFIGURED = """async () => {
  const { iceServers } = await import("/static/proctoring/ice.js");
  const servers = await iceServers();
  const pc = new RTCPeerConnection({ iceServers: servers });
  const kept = pc.getConfiguration().iceServers;
  pc.close();
  return { servers, kept };
}"""


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv(ENV, "a secret shared with the TURN server")
    turn = f'browser_ice_servers = [{{urls = ["{STUN}"]}}]\nturn_urls = ["{TURN}"]\n'
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=write_plugins_file(tmp_path, f'{PROCTORING}{turn}turn_secret_env = "{ENV}"'),
        log_format="text",
        rate_limit_per_minute=0,
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )


@pytest.fixture
async def server(settings: Settings, client: Client) -> AsyncIterator[Server]:
    async with live_server(settings) as running:
        yield running


async def test_fetched_servers_configure_a_connection(server: Server, candidate: User) -> None:
    console = Console()
    async with async_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = console.watch(await browser.new_page())
            await sign_in(page, server.base, candidate.email)
            await page.wait_for_url(lambda url: "/login" not in url)
            got: dict[str, Any] = await page.evaluate(CONFIGURED)
            stun, turn = got["servers"]
            assert stun == {"urls": [STUN]}
            assert turn["urls"] == [TURN]
            assert turn["username"].endswith(f":{candidate.id}")
            assert turn["credential"]
            # Chromium reports absent fields as empty strings
            assert [{k: v for k, v in s.items() if v} for s in got["kept"]] == got["servers"]

            await page.route("**/api/v1/rtc/ice-servers", lambda route: route.abort())
            failed: dict[str, Any] = await page.evaluate(CONFIGURED)
            assert failed == {"servers": [], "kept": []}
        finally:
            await browser.close()
    assert console.problems == [], console.problems
