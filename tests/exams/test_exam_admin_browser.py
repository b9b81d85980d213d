"""An examiner works through the examiner pages in headless Chromium against a real server:
writes a question in the bank, changes an exam's settings and candidates, and marks an essay
from the grading queue; each change is read back from the database, not from the page.

Screenshots at desktop and phone width go to ``EXAMS_SCREENSHOTS`` (or tmp).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from core.settings import Settings
from plugins.exams.tables import Answer, Attempt, Exam, ExamCandidate
from plugins.questions.tables import Question
from storage.tables.user import User
from tests.accounts.browser_kit import Console, Server, live_server, sign_in
from tests.exams.support import Client, add_question, create_exam, fixed, save, start, submit
from tests.exams.test_exam_browser import DESKTOP, screenshot, shots
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]
ESSAY = "Photosynthesis turns light into chemical energy."


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


async def test_examiner_writes_a_question_edits_an_exam_and_grades_an_essay(
    server: Server,
    client: Client,
    browser: Any,
    examiner: User,
    candidates: list[User],
    tmp_path: Path,
) -> None:
    first, second = candidates[0], candidates[1]
    essay = await add_question(server.services, "essay", points=4, title="Explain photosynthesis")
    exam = await create_exam(
        client, examiner, sections=[fixed(essay)], candidates=[first], title="Biology quiz"
    )
    attempt = await start(client, first, exam["id"])
    status, _ = await save(client, first, attempt["id"], 0, {"text": ESSAY}, seq=1)
    assert status == 200
    await submit(client, first, attempt["id"])
    folder = shots(tmp_path)

    console = Console()
    context = await browser.new_context(viewport=DESKTOP)
    page = console.watch(await context.new_page())
    await page.goto(f"{server.base}/login?next=/admin/questions")
    await sign_in(page, server.base, examiner.email)
    await page.wait_for_url(f"{server.base}/admin/questions")

    # The question bank: a new short-answer question from the type's template.
    await expect(page.get_by_role("row", name="Explain photosynthesis")).to_be_visible()
    editor = page.get_by_role("region", name="New question")
    await editor.get_by_label("Type", exact=True).select_option("short_answer")
    assert '"short_answer"' in await editor.get_by_label("Answer settings (JSON)").input_value()
    await editor.get_by_label("Title", exact=True).fill("Capital of France")
    await editor.get_by_label("Points").fill("2")
    await editor.get_by_label("Tags").fill("geography, europe")
    await editor.get_by_role("button", name="Create question").click()
    await expect(page.locator("#question-status")).to_contain_text("Created question")
    await expect(page.get_by_role("row", name="Capital of France")).to_be_visible()
    async with server.services.db.session() as db:
        made = (
            await db.execute(select(Question).where(col(Question.type) == "short_answer"))
        ).scalar_one()
    assert made.current_version == 1
    await screenshot(page, folder, "admin-questions")

    # One exam: settings and candidates.
    await page.goto(f"{server.base}/admin/exams/{exam['id']}")
    await page.get_by_label("Title", exact=True).fill("Biology final")
    await page.get_by_label("Duration (minutes)").fill("90")
    await page.get_by_label("Pass mark (%)").fill("50")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.locator("#settings-title ~ form [role=status]")).to_contain_text(
        "Settings saved"
    )
    await expect(page.locator("#exam-heading")).to_have_text("Biology final")
    await page.get_by_label(f"Extra time in minutes for {first.email}").fill("15")
    await (
        page.get_by_role("group", name=f"Detectors {first.email} is exempt from")
        .get_by_label("gaze")
        .check()
    )
    await page.get_by_label("Add a candidate by email or user id").fill(second.email)
    await page.get_by_role("button", name="Add to the list").click()
    await page.get_by_role("button", name="Save candidates").click()
    await expect(page.locator("#candidates-title ~ form [role=status]")).to_contain_text(
        "Candidates saved (2)"
    )
    async with server.services.db.session() as db:
        stored = await db.get(Exam, exam["id"])
        seats = {
            s.user_id: s
            for s in (
                await db.execute(
                    select(ExamCandidate).where(col(ExamCandidate.exam_id) == exam["id"])
                )
            ).scalars()
        }
    assert stored is not None
    assert (stored.title, stored.duration_minutes, stored.pass_mark) == ("Biology final", 90, 50)
    assert set(seats) == {first.id, second.id}
    assert seats[first.id or 0].extra_time_minutes == 15
    assert list(seats[first.id or 0].exempt_detectors) == ["gaze"]
    results = page.get_by_role("region", name="Results")
    await expect(results.get_by_role("row", name=first.email)).to_contain_text("submitted")
    await screenshot(page, folder, "admin-exam")

    # Time back for the candidate still writing (the second one, who started meanwhile).
    running = await start(client, second, exam["id"])
    async with server.services.db.session() as db:
        before = await db.get(Attempt, running["id"])
    assert before is not None
    credit = page.get_by_role("region", name="Give time back")
    await credit.get_by_label("Minutes").fill("7")
    await credit.get_by_label("Reason (audited)").fill("room B network outage")
    await credit.get_by_role("button", name="Give time back").click()
    await expect(credit.get_by_role("status")).to_contain_text(
        "7 minutes added to 1 attempt in progress"
    )
    async with server.services.db.session() as db:
        after = await db.get(Attempt, running["id"])
    assert after is not None
    assert (after.deadline_at - before.deadline_at).total_seconds() == 7 * 60

    # The grading queue: rubric marks and feedback for the essay.
    await page.goto(f"{server.base}/admin/grading")
    item = page.locator(".grade-item", has_text="Explain photosynthesis")
    await expect(item).to_contain_text(ESSAY)
    await item.get_by_label("Content (out of 3)").fill("2")
    await item.get_by_label("Style (out of 1)").fill("1")
    await item.get_by_label("Feedback for the candidate").fill("Clear and correct.")
    await item.get_by_role("button", name="Save mark").click()
    await expect(item.get_by_role("status")).to_contain_text("Mark saved")
    await expect(item.get_by_role("status")).to_contain_text("3 of 4 points")
    async with server.services.db.session() as db:
        answer = (
            await db.execute(select(Answer).where(col(Answer.attempt_id) == attempt["id"]))
        ).scalar_one()
    assert (answer.score, answer.feedback) == (3.0, "Clear and correct.")
    await screenshot(page, folder, "admin-grading")
    assert console.problems == [], console.problems
    await context.close()
