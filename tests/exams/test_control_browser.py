"""The exam page under a proctor's pause, resume and end, in headless Chromium.

The proctoring widget tells the page with a ``proctoring:control`` DOM event; here the test
changes the attempt on the server (as the proctoring plugin does, through
``plugins.exams.control``) and then dispatches that event itself. A pause the page was not told
about is found by the next save (``409 attempt_paused``), and a reload during a pause stays
paused.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from core.settings import Settings
from plugins.exams import control
from plugins.exams.tables import Answer, Attempt
from storage.tables.user import User
from tests.accounts.browser_kit import Console, Server, live_server, sign_in, until
from tests.exams.support import Client, add_question, create_exam, fixed
from tests.exams.test_exam_browser import shots
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]
DESKTOP = {"width": 1280, "height": 800}
REASON = "Phone on the desk."
PAUSED = "Your exam is paused by the proctor"


@pytest.fixture
async def server(settings: Settings, client: Client) -> AsyncIterator[Server]:
    """The live server shares the database with ``client`` (used to set the exam up)."""
    async with live_server(settings) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with async_api.async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def stored(server: Server, attempt_id: str) -> dict[int, dict[str, Any]]:
    async with server.services.db.session() as db:
        rows = await db.execute(select(Answer).where(col(Answer.attempt_id) == attempt_id))
        return {a.item: dict(a.response) for a in rows.scalars() if a.seq > 0}


async def tell(page: Any, action: str, text: str = "") -> None:
    """What the proctoring widget does when the proctor acts."""
    await page.evaluate(
        "(detail) => document.dispatchEvent(new CustomEvent('proctoring:control', {detail}))",
        {"action": action, "text": text},
    )


async def time_left_at_pause(server: Server, attempt_id: str) -> str:
    """The time left when the attempt was paused, as the page's timer writes it."""
    async with server.services.db.session() as db:
        attempt = await db.get(Attempt, attempt_id)
    assert attempt is not None
    assert attempt.paused_at is not None
    seconds = math.ceil((attempt.deadline_at - attempt.paused_at).total_seconds())
    hours, rest = divmod(seconds, 3600)
    clock = f"{rest // 60:02d}:{rest % 60:02d}"
    return f"{hours}:{clock}" if hours else clock


async def saved(page: Any) -> None:
    await until(page, "document.getElementById('save-state').dataset.state === 'saved'")


async def test_pause_resume_and_end_on_the_exam_page(
    server: Server,
    client: Client,
    browser: Any,
    examiner: User,
    candidate: User,
    tmp_path: Path,
) -> None:
    ids = [
        await add_question(server.services, "true_false", title=f"Question {n}") for n in (1, 2, 3)
    ]
    await create_exam(client, examiner, sections=[fixed(*ids)], candidates=[candidate])
    console = Console()
    context = await browser.new_context(viewport=DESKTOP)
    page = console.watch(await context.new_page())
    await page.goto(f"{server.base}/login?next=/exams")
    await sign_in(page, server.base, candidate.email)
    await page.wait_for_url(f"{server.base}/exams")
    await page.get_by_role("button", name="Start exam").click()
    await page.wait_for_url("**/exams/attempt/*")
    attempt_id = page.url.rstrip("/").rsplit("/", 1)[1]
    await page.get_by_label("True", exact=True).check()
    await page.get_by_role("button", name="Next").click()
    await saved(page)
    await page.get_by_role("button", name="Previous").click()

    # The proctor pauses: the overlay blocks the exam and the timer stands still.
    await control.pause(server.services, attempt_id, actor_id=examiner.id)
    await tell(page, "pause")
    overlay = page.locator("#exam-pause")
    await expect(overlay).to_be_visible()
    await expect(overlay).to_contain_text(PAUSED)
    await expect(page.locator("#timer")).to_contain_text("paused")
    assert await page.evaluate("() => document.querySelector('#exam .exam-grid').inert")
    await page.screenshot(path=str(shots(tmp_path) / "exam-paused-1280.png"))
    frozen = f"{await time_left_at_pause(server, attempt_id)} paused"
    await expect(page.locator("#timer")).to_have_text(frozen)

    # A refresh during the pause stays paused, with the same time left.
    await page.reload()
    await expect(page.locator("#exam-pause")).to_be_visible()
    await expect(page.locator("#exam-pause")).to_contain_text(PAUSED)
    await expect(page.locator("#timer")).to_have_text(frozen)

    # The proctor resumes: the page re-reads the attempt and the candidate goes on.
    await control.resume(server.services, attempt_id, actor_id=examiner.id)
    await tell(page, "resume")
    await expect(page.locator("#exam-pause")).to_be_hidden()
    await expect(page.locator("#timer")).not_to_contain_text("paused")
    await page.get_by_role("button", name="Next").click()
    await page.get_by_label("False", exact=True).check()
    await page.get_by_role("button", name="Next").click()  # moving on saves at once
    await saved(page)
    assert await stored(server, attempt_id) == {0: {"value": True}, 1: {"value": False}}

    # Paused again, but the widget's message is lost: the next save finds out, and keeps the
    # answer on this device until the resume.
    await control.pause(server.services, attempt_id, actor_id=examiner.id)
    await page.get_by_label("True", exact=True).check()
    await expect(page.locator("#exam-pause")).to_be_visible()
    await expect(page.locator("#exam-pause")).to_contain_text(PAUSED)
    pending = await page.evaluate(
        f"() => JSON.parse(localStorage.getItem('inv-exam:{attempt_id}:2'))"
    )
    assert pending["pending"] is True
    assert 2 not in await stored(server, attempt_id)
    await control.resume(server.services, attempt_id, actor_id=examiner.id)
    await tell(page, "resume")
    await expect(page.locator("#exam-pause")).to_be_hidden()
    await saved(page)
    assert (await stored(server, attempt_id))[2] == {"value": True}

    # The proctor ends the exam: the page stops and says why; the result page says it too.
    await control.terminate(server.services, attempt_id, actor_id=examiner.id, reason=REASON)
    await tell(page, "terminate", REASON)
    await expect(page.locator("#exam-pause")).to_contain_text(
        f"Your exam was ended by the proctor: {REASON}"
    )
    await page.screenshot(path=str(shots(tmp_path) / "exam-ended-1280.png"))
    async with server.services.db.session() as db:
        attempt = await db.get(Attempt, attempt_id)
    assert attempt is not None
    assert (attempt.status, attempt.ended_by) in (("submitted", "proctor"), ("graded", "proctor"))
    await page.get_by_role("link", name="See your result").click()
    await page.wait_for_url(f"**/exams/attempt/{attempt_id}/result")
    await expect(page.locator("#ended-by-proctor")).to_have_text(
        f"Your exam was ended by the proctor: {REASON}"
    )
    assert console.problems == [], console.problems
    await context.close()
