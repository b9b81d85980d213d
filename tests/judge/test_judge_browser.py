"""A candidate writes, runs and submits a program in headless Chromium; the examiner then
reads every run's per-test results, hidden tests marked. Programs run in the real local
sandbox (the shipped default backend) where bubblewrap is installed, else in the fake backend.

Screenshots go to ``JUDGE_SCREENSHOTS`` (or tmp): the exam page with results at desktop and
phone width, and the examiner's page.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from storage.tables.user import User
from tests.accounts.browser_kit import Console, Server, live_server, sign_in, until
from tests.exams.support import Client, add_question, create_exam, fixed
from tests.judge.support import PAYLOAD, SECRET_OUTPUT
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 800}
QUESTION = {
    **PAYLOAD,
    "languages": ["javascript", "python"],
    "starter_code": {
        "javascript": "// read two numbers\n",
        "python": "a, b = map(int, input().split())\n",
    },
}
WRONG = "a, b = map(int, input().split())\nprint(a * b)\n"


@pytest.fixture
def judge_config() -> str:
    backend = "" if shutil.which("bwrap") else 'backend = "fake"\n'
    return f"{backend}retry_seconds = 600\n"


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
    folder = Path(os.environ.get("JUDGE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def screenshot(page: Any, folder: Path, name: str) -> None:
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(folder / f"{name}-1280.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width} px)"
    await page.screenshot(path=str(folder / f"{name}-375.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


async def test_candidate_runs_samples_and_submits_examiner_sees_every_test(
    server: Server,
    client: Client,
    browser: Any,
    examiner: User,
    candidate: User,
    tmp_path: Path,
) -> None:
    program = await add_question(
        server.services, "coding", payload=QUESTION, points=3, title="Add two numbers"
    )
    exam = await create_exam(
        client, examiner, sections=[fixed(program)], candidates=[candidate], title="Code exam"
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

    editor = page.get_by_label("Your program")
    await expect(page.locator(".code-editor")).to_be_visible()
    await expect(editor).to_have_value("// read two numbers\n")
    await page.get_by_label("Language").select_option("python")  # starter code follows
    await expect(editor).to_have_value(QUESTION["starter_code"]["python"])
    keywords = await page.locator(".code-editor__highlight .tok-keyword").all_text_contents()
    assert keywords == ["int", "input"]  # python's mode, not javascript's

    await editor.fill(WRONG)
    await editor.press("End")
    await editor.press("Tab")  # indents instead of leaving the editor
    assert (await editor.input_value()).endswith("    ")
    await editor.press("Shift+Tab")
    assert (await editor.input_value()) == WRONG
    await expect(page.locator(".code-editor__gutter span")).to_have_count(3)

    await page.get_by_role("button", name="Run samples").click()
    results = page.locator(".judge-results")
    await expect(results).to_contain_text("Wrong answer", timeout=15_000)
    await expect(results).to_contain_text("1 of 2 tests passed")  # 2 * 2 == 2 + 2
    first = page.locator(".judge-test").first
    await expect(first).to_contain_text("Expected output")
    await expect(first.locator(".judge-output pre").nth(1)).to_have_text("3\n")
    await expect(first.locator(".judge-output pre").nth(2)).to_have_text("2\n")

    await editor.fill(WRONG.replace("a * b", "a + b"))
    await page.get_by_role("button", name="Run samples").click()
    await expect(results).to_contain_text("2 of 2 tests passed", timeout=15_000)
    await expect(results).to_contain_text("Accepted")
    await expect(results).to_contain_text(" ms")
    await until(page, "document.getElementById('save-state').dataset.state === 'saved'")
    await screenshot(page, shots(tmp_path), "judge-exam")

    await page.get_by_role("button", name="Submit exam…").click()
    await page.locator("#submit-dialog").get_by_role("button", name="Submit now").click()
    await page.wait_for_url(f"**/exams/attempt/{attempt_id}/result")
    await server.services.jobs.result(f"exams.grade_attempt:{attempt_id}", timeout=30)
    assert console.problems == [], console.problems
    await context.close()

    staff = await browser.new_context(viewport=DESKTOP)
    page = console.watch(await staff.new_page())
    await page.goto(f"{server.base}/login?next=/admin/judge/attempts/{attempt_id}")
    await sign_in(page, server.base, examiner.email)
    await page.wait_for_url(f"**/admin/judge/attempts/{attempt_id}")
    cards = page.locator(".judge-submission")
    await expect(cards).to_have_count(3)
    final = cards.nth(2)
    await expect(final).to_contain_text("Graded submission")
    await expect(final).to_contain_text("marks 100%")
    hidden = final.locator(".judge-test").nth(2)
    await expect(hidden).to_contain_text("hidden")
    await expect(hidden).to_contain_text(SECRET_OUTPUT)
    await screenshot(page, shots(tmp_path), "judge-examiner")
    assert console.problems == [], console.problems
    assert exam["title"] == "Code exam"
    await staff.close()
