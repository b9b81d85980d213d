"""An examiner generates questions from a pasted passage in headless Chromium against a real
server, watches the job finish (with one reported failure), edits a draft and approves it
into the bank, and rejects another; each outcome is read back from the database.

Screenshots at desktop and phone width go to ``GENERATION_SCREENSHOTS`` (or tmp).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from core.settings import Settings
from plugins.generation.tables import QuestionDraft
from plugins.questions.tables import Question, QuestionTag, QuestionVersion
from storage.tables.user import User
from tests.accounts.browser_kit import Console, Server, live_server, sign_in
from tests.exams.support import Client
from tests.exams.test_exam_browser import DESKTOP, screenshot
from tests.generation.conftest import PASSAGE
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]
NEW_TITLE = "Which term completes the sentence about photosynthesis?"


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
    folder = Path(os.environ.get("GENERATION_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_examiner_generates_edits_and_approves_a_question(
    server: Server, browser: Any, examiner: User, tmp_path: Path
) -> None:
    folder = shots(tmp_path)
    console = Console()
    context = await browser.new_context(viewport=DESKTOP)
    page = console.watch(await context.new_page())
    await page.goto(f"{server.base}/login?next=/admin/generate")
    await sign_in(page, server.base, examiner.email)
    await page.wait_for_url(f"{server.base}/admin/generate")
    await expect(page.get_by_role("link", name="Generate questions")).to_be_visible()

    # An empty form says what is missing instead of starting a job.
    await page.get_by_role("button", name="Generate drafts").click()
    await expect(page.locator("#source-text-error")).to_have_text(
        "Paste some material or write a topic."
    )

    await page.get_by_label("Text", exact=True).fill(PASSAGE)
    await page.get_by_label("Single choice").fill("2")
    await page.get_by_label("True / false").fill("1")
    await page.get_by_label("Coding problem").fill("1")
    await page.get_by_role("button", name="Generate drafts").click()
    await expect(page.locator("#progress-text")).to_have_text(
        "Finished: 4 of 4 attempted, 3 draft(s) written, 1 failed.", timeout=20_000
    )
    await expect(page.locator("#job-errors")).to_contain_text(
        "Coding problem 1: the offline generator does not write coding problems"
    )
    cards = page.locator("#drafts > li")
    await expect(cards).to_have_count(3)
    await screenshot(page, folder, "generate-drafts")

    # Edit the first draft: title, an option, tags and difficulty, then approve it.
    first = cards.nth(0)
    await first.get_by_label("Title", exact=True).fill(NEW_TITLE)
    await first.get_by_label("Option 2 text").fill("stroma")
    await first.get_by_label("Tags (comma-separated)").fill("biology, photosynthesis")
    await first.get_by_label("Difficulty").select_option("easy")
    await first.get_by_role("button", name="Approve into bank").click()
    await expect(first.locator(".form-status")).to_contain_text("is in the bank")
    await expect(first.get_by_role("heading")).to_contain_text(NEW_TITLE)

    # Reject the second.
    second = cards.nth(1)
    await second.get_by_role("button", name="Reject").click()
    await expect(second.locator(".form-status")).to_have_text("Rejected.")
    await screenshot(page, folder, "generate-approved")

    # The same material again, uploaded as a file: the drafts that repeat the approved
    # question say so.
    material = tmp_path / "photosynthesis.md"
    material.write_text(PASSAGE)
    await page.get_by_label("What you give").select_option("file")
    await page.get_by_label("File", exact=True).set_input_files(str(material))
    await page.get_by_role("button", name="Generate drafts").click()
    await expect(page.locator("#progress-text")).to_have_text(
        "Finished: 4 of 4 attempted, 3 draft(s) written, 1 failed.", timeout=20_000
    )
    await expect(cards).to_have_count(6)
    await expect(cards.nth(3).locator(".badge--warning")).to_have_text(
        re.compile(r"Near-duplicate of question #\d+ \(similarity \d+%\)")
    )
    await screenshot(page, folder, "generate-duplicate")

    async with server.services.db.session() as db:
        drafts = list(
            (await db.execute(select(QuestionDraft).order_by(col(QuestionDraft.id)))).scalars()
        )
        assert [d.status for d in drafts] == ["approved", "rejected"] + ["draft"] * 4
        assert drafts[3].duplicate_of == drafts[0].question_id
        question = await db.get(Question, drafts[0].question_id)
        assert question is not None
        assert question.difficulty == "easy"
        version = (
            await db.execute(
                select(QuestionVersion).where(col(QuestionVersion.question_id) == question.id)
            )
        ).scalar_one()
        assert version.title == NEW_TITLE
        assert version.payload["options"][1]["text"] == "stroma"
        tags = (
            await db.execute(
                select(col(QuestionTag.tag)).where(col(QuestionTag.question_id) == question.id)
            )
        ).scalars()
        assert sorted(tags) == ["biology", "photosynthesis"]
    assert console.problems == []
    await context.close()
