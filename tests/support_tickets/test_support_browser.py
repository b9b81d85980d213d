"""A help request round trip in headless Chromium against a real server: a candidate in an
exam asks from the exam page, a proctor in a second browser finds it in the queue and answers,
the answer appears on the exam page without a reload, and the proctor closes the ticket.

Screenshots at desktop and phone width go to ``SUPPORT_SCREENSHOTS`` (or tmp).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from storage.tables.user import User
from tests.accounts.browser_kit import Console, Server, live_server, sign_in
from tests.exams.support import Client, add_question, create_exam, fixed
from tests.support_tickets.listener_plugin import events_of
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 800}
QUESTION = "The second question says 'metres' but the unit box says 'm/s'. Which is right?"
ANSWER = "Metres. We are fixing the unit box; answer in metres."


@pytest.fixture
def exams_config() -> str:
    """A one-second poll keeps the test short (``[support]`` follows the ``[exams]`` table)."""
    return "\n[support]\npoll_seconds = 1\n"


@pytest.fixture
async def server(settings: Settings, client: Client) -> AsyncIterator[Server]:
    async with live_server(settings) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with async_api.async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SUPPORT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def screenshot(page: Any, folder: Path, name: str) -> None:
    """Desktop and phone shots; the phone must not scroll sideways."""
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(folder / f"{name}-1280.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width} px)"
    await page.screenshot(path=str(folder / f"{name}-375.png"), full_page=False)
    await page.set_viewport_size(DESKTOP)


async def test_candidate_asks_proctor_answers_and_closes(
    server: Server,
    client: Client,
    browser: Any,
    examiner: User,
    candidate: User,
    proctors: list[User],
    tmp_path: Path,
) -> None:
    folder = shots(tmp_path)
    ids = [
        await add_question(server.services, kind, title=f"The {kind} question")
        for kind in ("true_false", "numeric")
    ]
    await create_exam(
        client, examiner, sections=[fixed(*ids)], candidates=[candidate], title="Mechanics"
    )
    console = Console()

    # The candidate starts the exam and asks from the second question.
    sitting = await browser.new_context(viewport=DESKTOP)
    exam = console.watch(await sitting.new_page())
    await exam.goto(f"{server.base}/login?next=/exams")
    await sign_in(exam, server.base, candidate.email)
    await exam.wait_for_url(f"{server.base}/exams")
    await exam.get_by_role("button", name="Start exam").click()
    await exam.wait_for_url("**/exams/attempt/*")
    attempt_id = exam.url.rstrip("/").rsplit("/", 1)[1]
    polls: list[str] = []
    exam.on("request", lambda r: polls.append(r.url) if "attempt_id=" in r.url else None)
    await exam.get_by_role("button", name="Next").click()
    await expect(exam.locator("#question-title")).to_have_text("The numeric question")
    await asyncio.sleep(2.5)  # polls are 1 s apart here; nothing asked, so no polling after
    assert polls == []  # the one look when the page opened

    await exam.get_by_role("button", name="Need help?").click()
    panel = exam.locator("#help-panel")
    await expect(panel).to_be_visible()
    await panel.get_by_role("button", name="Send").click()  # empty: told what to do, not sent
    await expect(panel.locator("#help-message-error")).to_have_text(
        "Write what you need help with first."
    )
    await panel.get_by_label("What is it about?").select_option("content")
    await panel.get_by_label("Message").fill(QUESTION)
    await panel.get_by_role("button", name="Send").click()
    await expect(panel.locator("#help-status")).to_contain_text("Sent.")
    await expect(panel.locator("#help-thread .message")).to_have_count(1)
    await expect(panel.get_by_label("Reply")).to_be_visible()  # the panel now holds the thread
    await screenshot(exam, folder, "help-asked")
    await panel.get_by_role("button", name="Close").click()
    await expect(panel).to_be_hidden()

    # A proctor finds it, unread, in the queue, and answers.
    desk = await browser.new_context(viewport=DESKTOP)
    staff = console.watch(await desk.new_page())
    await staff.goto(f"{server.base}/login?next=/support/tickets")
    await sign_in(staff, server.base, proctors[0].email)
    await staff.wait_for_url(f"{server.base}/support/tickets")
    row = staff.locator("#ticket-rows tr").first
    await expect(row).to_contain_text("New")
    await expect(row).to_contain_text("Mechanics")
    await expect(row).to_contain_text("Q2")
    await expect(row).to_contain_text("Question content")
    await staff.get_by_label("Exam").select_option(label="Mechanics")
    await expect(staff.locator("#ticket-count")).to_have_text("1 ticket, 1 unread")
    await screenshot(staff, folder, "staff-queue")
    await row.get_by_role("link").click()
    await staff.wait_for_url("**/support/tickets/*")
    asked = staff.locator("#thread .message").first
    await expect(asked).to_contain_text(QUESTION)
    await expect(asked).to_contain_text("Candidate 0 · Candidate")
    await expect(staff.locator("#ticket-meta")).to_contain_text("question 2")
    await staff.get_by_label("Your reply").fill(ANSWER)
    await staff.get_by_role("button", name="Send reply").click()
    await expect(staff.locator("#thread .message")).to_have_count(2)
    await expect(staff.locator("#ticket-meta")).to_contain_text("Answered")

    # The exam page hears of it without a reload: "new reply" on the button, then the thread.
    await expect(exam.locator("#help-news")).to_be_visible(timeout=10_000)
    assert exam.url.endswith(attempt_id)
    await exam.get_by_role("button", name="Need help?").click()
    reply = panel.locator("#help-thread .message").nth(1)
    await expect(reply).to_contain_text(ANSWER)
    await expect(reply).to_contain_text("Proctor")
    await expect(exam.locator("#help-news")).to_be_hidden()
    await screenshot(exam, folder, "help-answered")

    # The proctor closes it; the candidate's panel says so.
    await staff.get_by_role("button", name="Close ticket").click()
    await expect(staff.locator("#ticket-meta")).to_contain_text("Closed")
    await expect(staff.get_by_role("button", name="Reopen ticket")).to_be_visible()
    await screenshot(staff, folder, "staff-thread")
    await expect(panel.locator(".help-panel__state")).to_contain_text("Closed", timeout=10_000)

    # Outside the exam, the candidate's help page lists it and opens the conversation.
    help_page = console.watch(await sitting.new_page())
    await help_page.goto(f"{server.base}/support")
    item = help_page.locator("#ticket-list li").first
    await expect(item).to_contain_text("Closed")
    await expect(item).to_contain_text("Mechanics")
    await screenshot(help_page, folder, "candidate-help")
    await item.get_by_role("link").click()
    await help_page.wait_for_url("**/support/tickets/*")
    await expect(help_page.locator("#thread .message")).to_have_count(2)
    await expect(help_page.locator("#thread .message").first).to_contain_text("You · Candidate")
    await expect(help_page.get_by_label("Your reply")).to_have_attribute(
        "placeholder", "Writing again reopens this ticket."
    )
    await screenshot(help_page, folder, "candidate-thread")

    names = [name for name, _ in events_of(server.services)]
    assert names == ["ticket.created", "ticket.replied"]
    assert console.problems == [], console.problems
    await sitting.close()
    await desk.close()
