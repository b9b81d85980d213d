"""The home page in headless Chromium: nothing from other hosts, keyboard reachable, no CSP
violations. Screenshots are written for a person to look at (path printed with ``-s``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from .conftest import build_app, make_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.mark.browser
@pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed")
async def test_home_page_in_browser(tmp_path: Path) -> None:
    async_api = pytest.importorskip("playwright.async_api")

    runner = web.AppRunner(build_app(make_settings(tmp_path)))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    requested: list[str] = []
    problems: list[str] = []
    try:
        async with async_api.async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda req: requested.append(req.url))
            page.on(
                "console",
                lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda exc: problems.append(str(exc)))

            response = await page.goto(base + "/", wait_until="networkidle")
            assert response is not None
            assert response.status == 200
            assert await page.title() == "Invigilator"

            await page.keyboard.press("Tab")
            focused = await page.evaluate(
                "() => [document.activeElement.className, document.activeElement.textContent]"
            )
            assert focused == ["skip-link", "Skip to content"]
            # The link slides into view when focused (a short transition).
            await page.wait_for_function(
                "() => document.activeElement.getBoundingClientRect().top >= 0", timeout=2000
            )
            await page.keyboard.press("Enter")
            assert await page.evaluate("() => document.activeElement.id") == "main"
            await page.screenshot(path=str(tmp_path / "home-1280.png"), full_page=True)

            await page.set_viewport_size({"width": 375, "height": 800})
            width = await page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 375, "the page scrolls sideways on a phone"
            await page.screenshot(path=str(tmp_path / "home-375.png"), full_page=True)
            await browser.close()
    finally:
        await runner.cleanup()

    hosts = {urlsplit(url).hostname for url in requested if not url.startswith("data:")}
    assert hosts <= LOCAL_HOSTS, f"requests left the server: {hosts - LOCAL_HOSTS}"
    assert not problems, problems  # CSP violations are reported as console errors
    print(f"screenshots: {tmp_path}/home-1280.png {tmp_path}/home-375.png")
