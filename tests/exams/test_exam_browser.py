"""A candidate takes an exam in headless Chromium against a real server, and the network drops
half-way: answers given offline stay on the device, are sent when it comes back, and every
answer is then read back from the server, not only from the page's storage.

Screenshots of the exam page at desktop and phone width go to ``EXAMS_SCREENSHOTS`` (or tmp).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from core.settings import Settings
from plugins.exams.tables import Answer
from storage.tables.user import User
from tests.accounts.browser_kit import Console, Server, live_server, sign_in, until
from tests.exams.support import Client, add_question, create_exam, fixed
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]
TYPES = ["single_choice", "multiple_choice", "true_false", "numeric", "short_answer", "essay"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 800}
ESSAY = "Written while the network was down, kept on the device."
EXPECTED: dict[int, dict[str, Any]] = {
    0: {"selected": ["b"]},
    1: {"selected": ["a", "b"]},
    2: {"value": True},
    3: {"value": 3.5},
    4: {"text": "Paris"},
    5: {"text": ESSAY},
}


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


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("EXAMS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def screenshot(page: Any, folder: Path, name: str) -> None:
    """Desktop and phone shots; the phone must not scroll sideways."""
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(folder / f"{name}-1280.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width} px)"
    await page.screenshot(path=str(folder / f"{name}-375.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


async def stored(server: Server, attempt_id: str) -> dict[int, dict[str, Any]]:
    async with server.services.db.session() as db:
        rows = await db.execute(select(Answer).where(col(Answer.attempt_id) == attempt_id))
        return {a.item: dict(a.response) for a in rows.scalars() if a.seq > 0}


async def saved(page: Any) -> None:
    await until(page, "document.getElementById('save-state').dataset.state === 'saved'")


async def answer(page: Any, item: int) -> None:
    """Answer question ``item`` (the page shows it) the way a person does."""
    if item == 0:
        await page.get_by_label("Beta").check()
    elif item == 1:
        await page.get_by_label("One").check()
        await page.get_by_label("Two").check()
    elif item == 2:
        await page.get_by_label("True", exact=True).check()
    elif item == 3:
        await page.get_by_label("Your answer").fill("3.5")
    elif item == 4:
        await page.get_by_label("Your answer").fill("Paris")
    else:
        await page.get_by_label("Your answer").fill(ESSAY)


async def test_candidate_takes_exam_through_a_network_drop(
    server: Server,
    client: Client,
    browser: Any,
    examiner: User,
    candidate: User,
    tmp_path: Path,
) -> None:
    ids = [
        await add_question(server.services, kind, title=f"The {kind} question") for kind in TYPES
    ]
    await create_exam(
        client, examiner, sections=[fixed(*ids)], candidates=[candidate], title="Demo exam"
    )
    console = Console()
    context = await browser.new_context(viewport=DESKTOP)
    page = console.watch(await context.new_page())

    await page.goto(f"{server.base}/login?next=/exams")
    await sign_in(page, server.base, candidate.email)
    await page.wait_for_url(f"{server.base}/exams")
    await page.get_by_role("button", name="Start exam").click()
    await page.wait_for_url("**/exams/attempt/*")
    attempt_id = page.url.rstrip("/").rsplit("/", 1)[1]
    await expect(page.locator("#question-title")).to_have_text("The single_choice question")
    assert await page.locator("#timer").text_content() in ("1:00:00", "59:59", "59:58")

    for item in range(4):  # online: autosave as we go
        await answer(page, item)
        if item == 1:
            await page.get_by_label("Flag for review").check()
        await page.get_by_role("button", name="Next").click()
    await saved(page)
    assert await stored(server, attempt_id) == {i: EXPECTED[i] for i in range(4)}
    await screenshot(page, shots(tmp_path), "exam-online")

    await context.set_offline(True)  # the network drops
    await answer(page, 4)
    await page.get_by_role("button", name="Next").click()
    await answer(page, 5)
    await page.locator("#question-form textarea").blur()
    await until(page, "document.getElementById('save-state').dataset.state === 'offline'")
    await expect(page.locator("#save-state")).to_have_text(
        "Offline — 2 answers will be sent when you reconnect"
    )
    await expect(page.locator("#offline-banner")).to_be_visible()
    kept = await page.evaluate(
        f"() => [4, 5].map((i) => JSON.parse(localStorage.getItem('inv-exam:{attempt_id}:' + i)))"
    )
    assert [k["response"] for k in kept] == [EXPECTED[4], EXPECTED[5]]
    assert all(k["pending"] for k in kept)
    assert 4 not in await stored(server, attempt_id)
    await screenshot(page, shots(tmp_path), "exam-offline")

    await context.set_offline(False)  # back: the outbox empties on its own
    await saved(page)
    await expect(page.locator("#save-state")).to_have_text("All answers saved")
    await expect(page.locator("#offline-banner")).to_be_hidden()
    assert await stored(server, attempt_id) == EXPECTED

    # A reload shows the server's answers on the same question with the same deadline.
    await page.evaluate(
        f"() => Object.keys(localStorage).filter((k) => k.startsWith('inv-exam:{attempt_id}:'))"
        ".forEach((k) => localStorage.removeItem(k))"
    )
    await page.reload()
    await expect(page.locator("#question-title")).to_have_text("The essay question")
    await expect(page.get_by_label("Your answer")).to_have_value(ESSAY)
    await page.locator("#item-nav button").nth(1).click()
    await expect(page.get_by_label("One")).to_be_checked()
    await expect(page.get_by_label("Three")).not_to_be_checked()
    await expect(page.get_by_label("Flag for review")).to_be_checked()
    await page.locator("#item-nav button").nth(3).click()
    await expect(page.get_by_label("Your answer")).to_have_value("3.5")

    await page.get_by_role("button", name="Submit exam…").click()
    dialog = page.locator("#submit-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Flagged for review (1)")
    await expect(dialog.get_by_role("button", name="Question 2")).to_be_visible()
    await dialog.get_by_role("button", name="Submit now").click()
    await page.wait_for_url(f"**/exams/attempt/{attempt_id}/result")
    await expect(page.locator("#result-status")).to_contain_text("Your answers were submitted")
    await screenshot(page, shots(tmp_path), "result")
    assert console.problems == [], console.problems
    await context.close()


async def test_examiner_publishes_from_exams_page(
    server: Server, client: Client, browser: Any, examiner: User, tmp_path: Path
) -> None:
    question = await add_question(server.services, "true_false")
    await create_exam(client, examiner, sections=[fixed(question)], publish=False, title="Draft")
    console = Console()
    context = await browser.new_context(viewport=DESKTOP)
    page = console.watch(await context.new_page())
    await page.goto(f"{server.base}/login?next=/admin/exams")
    await sign_in(page, server.base, examiner.email)
    await page.wait_for_url(f"{server.base}/admin/exams")
    row = page.get_by_role("row", name="Draft")
    await row.get_by_role("button", name="Publish").click()
    await expect(page.locator("#page-status")).to_contain_text("Draft is published.")
    await expect(page.get_by_role("row", name="Draft")).to_contain_text("published")
    await screenshot(page, shots(tmp_path), "admin-exams")
    assert console.problems == [], console.problems
    await context.close()
