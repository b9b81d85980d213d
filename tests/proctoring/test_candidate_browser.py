"""A candidate in Chromium, with a fake camera showing a real face, goes from My exams through
consent and the system check to the exam page, whose proctoring widget publishes, reconnects
after a reload and shows a proctor's warning the moment it is published."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.channels import ATTEMPT_CONTROL
from core.settings import Settings
from plugins.proctoring import consent
from plugins.proctoring.candidate_api import check_key
from plugins.proctoring.plugin import registry_for
from storage.tables.user import User
from tests.accounts.browser_kit import (
    HAVE_FFMPEG,
    Console,
    Server,
    camera_args,
    live_server,
    make_face_video,
    screenshots,
    shots_dir,
    sign_in,
    until,
)
from tests.exams.support import Client, add_question, create_exam, fixed
from tests.proctoring.test_browser import eventually
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
    pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg is not installed"),
]

WARNING = "Please keep your face in view of the camera."


@pytest.fixture
async def server(settings: Settings, client: Client) -> AsyncIterator[Server]:
    async with live_server(settings) as running:
        yield running


async def test_consent_check_start_and_a_proctor_warning(
    server: Server, client: Client, examiner: User, candidate: User, tmp_path: Path
) -> None:
    question = await add_question(server.services, "essay")
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        title="Proctored physics",
        proctoring_policy={"enabled": True, "snapshot_interval_s": 10},
    )
    exam_id = int(exam["id"])
    assert candidate.id is not None
    registry = registry_for(server.services)
    assert registry is not None
    shots = shots_dir(tmp_path)
    y4m = make_face_video(tmp_path)
    args = [*CHROMIUM_ARGS, *camera_args(y4m), "--allow-loopback-in-peer-connection"]
    console = Console()
    async with async_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = console.watch(await browser.new_page())
            await page.goto(f"{server.base}/login?next=/exams")
            await sign_in(page, server.base, candidate.email)
            await page.wait_for_url("**/exams")
            # My exams sends a proctored exam's Start to the check page, not straight in.
            await page.get_by_role("link", name="Start exam").click()
            await page.wait_for_url(f"**/exams/{exam_id}/check")

            # Step 1: consent. Agreeing without ticking the box says what to do.
            heading = page.get_by_role("heading", name="Step 1 of 2: Agree to proctoring")
            await async_api.expect(heading).to_be_visible()
            await async_api.expect(page.locator("#consent-text")).to_contain_text(
                "every 10 seconds"
            )
            await screenshots(page, shots, "exam-check-consent")
            await page.get_by_role("button", name="I agree").click()
            await async_api.expect(page.locator("#consent-check-error")).to_contain_text(
                "Tick the box"
            )
            await page.get_by_label("I have read this and agree").check()
            await page.get_by_role("button", name="I agree").click()

            # Step 2: the system check turns ready with the fake camera's face.
            await async_api.expect(
                page.get_by_role("heading", name="Step 2 of 2: Check your camera and microphone")
            ).to_be_visible()
            await until(page, "document.getElementById('precheck').dataset.ready === 'true'", 40)
            await async_api.expect(page.locator("#check-summary")).to_have_text(
                "All checks passed. You can start the exam."
            )
            face = page.locator('[data-check="face"]')
            await async_api.expect(face).to_have_attribute("data-ok", "true")
            await async_api.expect(face).to_contain_text("OK")
            assert registry.get(check_key(exam_id, candidate.id)) is not None
            async with server.services.db.session() as db:
                row = await consent.current_consent(db, exam_id, candidate.id)
            assert row is not None
            assert (row.exam_id, row.user_id) == (exam_id, candidate.id)
            assert row.text_version == consent.CONSENT_VERSION
            await screenshots(page, shots, "exam-check-ready")

            # Start: the check connection goes, the exam page's widget publishes the attempt.
            await page.get_by_role("button", name="Start exam").click()
            await page.wait_for_url("**/exams/attempt/*")
            attempt_id = page.url.rstrip("/").rsplit("/", 1)[-1]
            widget = page.locator("#proctoring-widget")
            await async_api.expect(widget).to_have_attribute(
                "data-status", "connected", timeout=20_000
            )
            await async_api.expect(widget).to_have_attribute("data-control", "open")
            await async_api.expect(widget.locator(".pwidget__text")).to_have_text(
                "Proctoring on — camera and microphone connected"
            )
            assert list(registry.peers) == [attempt_id]

            async def kinds() -> set[str]:
                events = await server.services.events.query(
                    attempt_id=attempt_id, kind_prefix="telemetry."
                )
                return {e.kind for e in events}

            async def screens_reported() -> bool:
                return "telemetry.screens" in await kinds()

            await eventually(screens_reported)

            # A reload reconnects on its own and says so in the telemetry.
            await page.reload()
            await async_api.expect(widget).to_have_attribute(
                "data-status", "connected", timeout=20_000
            )
            await async_api.expect(widget).to_have_attribute("data-control", "open")

            async def reload_reported() -> bool:
                return "telemetry.reload" in await kinds()

            await eventually(reload_reported)
            assert list(registry.peers) == [attempt_id]

            # The server drops the connection: the widget sends a new offer on its own.
            created = registry.created
            await registry.close(attempt_id)

            def reconnected() -> bool:
                peer = registry.get(attempt_id)
                return registry.created > created and peer is not None and peer.state == "connected"

            await eventually(reconnected, timeout=40)
            await async_api.expect(widget).to_have_attribute(
                "data-status", "connected", timeout=20_000
            )

            # A proctor's warning, published on the bus, appears at once and reaches the page.
            await page.evaluate(
                """() => {
                  window.proctoringControls = [];
                  document.addEventListener("proctoring:control",
                    (event) => window.proctoringControls.push(event.detail));
                }"""
            )
            message = {
                "attempt_id": attempt_id,
                "action": "warn",
                "text": WARNING,
                "at": time.time(),
                "by": examiner.id,
            }
            await server.services.bus.publish(ATTEMPT_CONTROL, json.dumps(message).encode())
            shown = page.get_by_role("alert").filter(has_text=WARNING)
            await async_api.expect(shown).to_be_visible()
            await async_api.expect(shown).to_contain_text("Warning from your proctor")
            assert await page.evaluate("() => window.proctoringControls") == [
                {"action": "warn", "text": WARNING}
            ]
            await screenshots(page, shots, "exam-widget-warning")
            await shown.get_by_role("button", name="Dismiss").click()
            await async_api.expect(shown).to_have_count(0)
        finally:
            await browser.close()
    assert console.problems == [], console.problems
