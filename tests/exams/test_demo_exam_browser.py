"""The demo candidate takes the seeded demo exam end to end in headless Chromium: every question
type (coding included), shuffled and pool-drawn as ``seed-demo`` made it, with the network
dropping part-way through. Every answer given must end up in the database, and the submitted
attempt must be graded as far as it can be without a person.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from core.plugin_manager import call_async_hook
from core.settings import Settings
from plugins.accounts.seed import DEMO_DOMAIN
from plugins.exams.tables import Answer, Attempt
from tests.accounts.browser_kit import Console, Server, live_server, sign_in, until
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM
from webapp.app import load_plugin_manager

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]
DEMO_PASSWORD = "invigilator-demo"  # the [accounts] default the seed uses


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    async with live_server(settings) as running:
        lines = await call_async_hook(
            load_plugin_manager(settings), "invigilator_seed_demo", services=running.services
        )
        assert any("Demo exam" in line for _plugin, out in lines for line in out or ())
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with async_api.async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def answer(page: Any, kind: str) -> None:
    """Answer the question on screen the way a person would, whatever its type."""
    form = page.locator("#question-form")
    if kind in ("single_choice", "true_false"):
        await form.locator("input[type=radio]").first.check()
    elif kind == "multiple_choice":
        await form.locator("input[type=checkbox]").first.check()
    elif kind == "numeric":
        await page.get_by_label("Your answer").fill("42")
    elif kind == "short_answer":
        await page.get_by_label("Your answer").fill("print")
    elif kind == "essay":
        await page.get_by_label("Your answer").fill("Lists are mutable; tuples are not.")
    elif kind == "coding":
        await page.get_by_label("Your program").fill("print(int(input()) * 2)\n")
    else:
        pytest.fail(f"the demo exam has an unexpected question type {kind!r}")


async def stored(server: Server, attempt_id: str) -> dict[int, dict[str, Any]]:
    async with server.services.db.session() as db:
        rows = await db.execute(select(Answer).where(col(Answer.attempt_id) == attempt_id))
        return {a.item: dict(a.response) for a in rows.scalars() if a.seq > 0}


async def test_demo_candidate_takes_the_demo_exam(server: Server, browser: Any) -> None:
    console = Console()
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = console.watch(await context.new_page())
    await page.goto(f"{server.base}/login?next=/exams")
    await sign_in(page, server.base, f"demo-candidate@{DEMO_DOMAIN}", password=DEMO_PASSWORD)
    await page.wait_for_url(f"{server.base}/exams")
    await page.get_by_role("button", name="Start exam").first.click()
    await page.wait_for_url("**/exams/attempt/*")
    attempt_id = page.url.rstrip("/").rsplit("/", 1)[1]
    paper = await page.evaluate(
        f"async () => (await (await fetch('/api/v1/attempts/{attempt_id}')).json()).items"
    )
    kinds = [item["type"] for item in paper]
    assert {
        "single_choice",
        "multiple_choice",
        "true_false",
        "numeric",
        "short_answer",
        "essay",
        "coding",
    } <= set(kinds), kinds

    drop_at = len(kinds) - 2  # the last two answers are given while offline
    for index, kind in enumerate(kinds):
        await page.locator("#item-nav button").nth(index).click()  # navigating saves at once
        if index == drop_at:
            await until(page, "document.getElementById('save-state').dataset.state === 'saved'")
            await context.set_offline(True)
        await answer(page, kind)
    await page.locator("#item-nav button").nth(0).click()
    await until(page, "document.getElementById('save-state').dataset.state === 'offline'")
    await expect(page.locator("#save-state")).to_have_text(
        "Offline — 2 answers will be sent when you reconnect"
    )
    await expect(page.locator("#offline-banner")).to_be_visible()
    assert len(await stored(server, attempt_id)) < len(kinds)

    await context.set_offline(False)
    await until(page, "document.getElementById('save-state').dataset.state === 'saved'")
    answers = await stored(server, attempt_id)
    assert sorted(answers) == list(range(len(kinds))), answers
    for index, kind in enumerate(kinds):
        response = answers[index]
        if kind in ("single_choice", "multiple_choice"):
            assert len(response["selected"]) == 1
        elif kind == "coding":
            assert "input()" in response["code"]

    await page.get_by_role("button", name="Submit exam…").click()
    await page.locator("#submit-dialog").get_by_role("button", name="Submit now").click()
    await page.wait_for_url(f"**/exams/attempt/{attempt_id}/result")
    async with server.services.db.session() as db:
        attempt = await db.get(Attempt, attempt_id)
        scored = (
            (
                await db.execute(
                    select(Answer).where(
                        col(Answer.attempt_id) == attempt_id, col(Answer.score).is_not(None)
                    )
                )
            )
            .scalars()
            .all()
        )
    assert attempt is not None
    assert attempt.status in ("submitted", "graded")
    objective = [k for k in kinds if k not in ("essay", "coding")]
    assert len(scored) >= len(objective)  # objective items were graded at submit
    assert console.problems == [], console.problems
    await context.close()
