"""A proctor works the live wall, the focus view and the review page in headless Chromium
against a real server.

Violations of attempts in progress come through the real live path: the live proctoring module
is given the attempts, sampled frames (which become thumbnails and snapshots) and browser
telemetry, exactly as the data channel and the sampler feed it, and the wall hears of them over
the proctor WebSocket. A finished attempt is reviewed from violation events appended to the
event log. Outcomes are read back from the database, not only from the page.

Screenshots at 1280x800 and 375 px wide go to ``PROCTORING_SCREENSHOTS`` (or tmp).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import pytest
from skimage import data as images
from sqlalchemy import select
from sqlmodel import col

from core.events import Event
from core.policy import DEFAULT_RULES
from core.rules import Violation
from core.services import Services
from core.settings import Settings
from plugins.exams.tables import Attempt
from plugins.proctoring import scores, snapshots, tiles
from plugins.proctoring.consent import CONSENT_VERSION
from plugins.proctoring.live import LiveProctoring
from plugins.proctoring.plugin import analysis_for
from plugins.proctoring.tables import (
    ProctorAction,
    ProctoringConsent,
    ProctoringScore,
    ViolationReview,
)
from storage.tables.user import Role, User
from tests.accounts.browser_kit import (
    DESKTOP,
    HAVE_FFMPEG,
    PHONE,
    Console,
    Server,
    camera_args,
    live_server,
    make_face_video,
    sign_in,
    until,
)
from tests.exams.support import PASSWORD_HASH, Client, add_question, create_exam, fixed, start
from tests.exams.support import submit as submit_attempt
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]

POLICY = {
    "enabled": True,
    "snapshot_interval_s": 1,
    # No camera publishes in these tests; "camera off" would fire on every attempt.
    "rules": {"camera_off": {"enabled": False}},
}
NAMES = [
    "Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov",
    "Donald Knuth", "Margaret Hamilton", "Ken Thompson", "Frances Allen", "John Backus",
    "Radia Perlman", "Tim Berners-Lee", "Shafi Goldwasser", "Leslie Lamport", "Hedy Lamarr",
    "Niklaus Wirth", "Karen Spärck Jones", "Dennis Ritchie", "Sophie Wilson", "Bjarne Stroustrup",
    "Adele Goldberg", "Guido van Rossum", "Joan Clarke", "Claude Shannon", "Annie Easley",
    "Vint Cerf", "Mary Kenneth Keller", "Tony Hoare", "Lynn Conway", "Robin Milner",
]  # fmt: skip
FACE = cv2.resize(cv2.cvtColor(images.astronaut(), cv2.COLOR_RGB2BGR), (640, 480))
RISEN = re.compile(r"\bis-risen\b")
RULES = {rule.kind: rule for rule in DEFAULT_RULES}
# What the browser sends over the data channel, and the badge each becomes.
TELEMETRY: list[tuple[str, dict[str, Any], str]] = [
    ("visibility", {"state": "hidden"}, "tab_hidden"),
    ("screens", {"count": 2}, "extra_screens"),
    ("copy", {}, "clipboard"),
    ("fullscreen_exit", {}, "fullscreen_exit"),
    ("reload", {}, "page_reload"),
]


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PROCTORING_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def screenshots(page: Any, folder: Path, name: str) -> None:
    """Full-page shots at desktop and phone width; the phone must not scroll sideways."""
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(folder / f"{name}-1280.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    await asyncio.sleep(0.3)  # let the chart redraw for the narrow width
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width} px)"
    await page.screenshot(path=str(folder / f"{name}-375.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


@pytest.fixture
async def server(settings: Settings, client: Client) -> AsyncIterator[Server]:
    """The live server shares the database with ``client`` (used to set the exams up)."""
    async with live_server(settings) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with async_api.async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def eventually(check: Any, timeout: float = 20.0) -> Any:
    """Await ``check()`` until it gives something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


async def candidates_named(services: Services, names: list[str]) -> list[User]:
    async with services.db.session() as db:
        people = [
            User(
                email=f"candidate{n}@example.com",
                display_name=name,
                role=Role.CANDIDATE,
                password_hash=PASSWORD_HASH,
            )
            for n, name in enumerate(names)
        ]
        db.add_all(people)
        await db.commit()
    return people


async def proctored_attempts(
    client: Client, services: Services, examiner: User, groups: dict[str, list[User]]
) -> dict[str, list[str]]:
    """One proctored exam per title with its candidates, each of whom consented and started."""
    question = await add_question(services, "essay")
    started: dict[str, list[str]] = {}
    for title, people in groups.items():
        exam = await create_exam(
            client,
            examiner,
            sections=[fixed(question)],
            candidates=people,
            title=title,
            proctoring_policy=POLICY,
        )
        async with services.db.session() as db:
            for person in people:
                db.add(
                    ProctoringConsent(
                        exam_id=exam["id"], user_id=person.id, text_version=CONSENT_VERSION
                    )
                )
            await db.commit()
        started[title] = [str((await start(client, person, exam["id"]))["id"]) for person in people]
    return started


def live_module(services: Services) -> LiveProctoring:
    analysis = analysis_for(services)
    assert analysis is not None
    return analysis.live


async def watch_live(services: Services, attempt_ids: list[str]) -> None:
    """Hand the attempts to live proctoring, as a candidate's first frames would."""
    live = live_module(services)
    for attempt_id in attempt_ids:
        await live._load(attempt_id)
        assert attempt_id in live.attempts, attempt_id
    live.frames(dict.fromkeys(attempt_ids, FACE), time.time())


async def cached(services: Services, attempt_id: str) -> tiles.Tile | None:
    return await tiles.cached_tile(services, attempt_id)


async def wall_order(page: Any) -> list[str]:
    return list(
        await page.evaluate(
            "() => [...document.querySelectorAll('.wall__cell')].map(n => n.dataset.attempt)"
        )
    )


async def test_the_wall_draws_alerts_without_reshuffling_and_opens_the_focus_view(
    server: Server, client: Client, browser: Any, examiner: User, tmp_path: Path
) -> None:
    services = server.services
    people = await candidates_named(services, NAMES)
    started = await proctored_attempts(
        client,
        services,
        examiner,
        {"Organic chemistry final": people[:16], "Statistics 101 midterm": people[16:]},
    )
    attempt_ids = [a for ids in started.values() for a in ids]
    assert len(attempt_ids) == 30
    await watch_live(services, attempt_ids)
    live = live_module(services)
    # A spread of violations, from the browser's telemetry, on eight attempts.
    for index, attempt_id in enumerate(attempt_ids[:8]):
        for kind, values, _ in TELEMETRY[: 1 + index % len(TELEMETRY)]:
            live.telemetry(attempt_id, kind, values)

    async def ready() -> bool:
        found = [await cached(services, a) for a in attempt_ids]
        return all(t is not None and t.thumbnail_at for t in found) and all(
            (t := found[i]) is not None and t.badges for i in range(8)
        )

    await eventually(ready)
    proctor = await server.user(Role.PROCTOR, email="proctor@example.com")
    folder = shots(tmp_path)

    console = Console()
    context = await browser.new_context(viewport=DESKTOP)
    page = console.watch(await context.new_page())
    await page.goto(f"{server.base}/login?next=/proctor")
    await sign_in(page, server.base, proctor.email)
    await page.wait_for_url(f"{server.base}/proctor")
    await expect(page.locator("#wall-live")).to_have_attribute("data-state", "live")
    await expect(page.locator(".wall__cell")).to_have_count(30)
    await expect(page.get_by_role("link", name="Proctoring")).to_have_attribute(
        "aria-current", "page"
    )

    # Riskiest first; badges say why in words, with the severity as icon and word, not colour.
    scores_shown = [
        float(s)
        for s in await page.evaluate(
            "() => [...document.querySelectorAll('.wall__cell')].map(n => n.dataset.score)"
        )
    ]
    assert scores_shown == sorted(scores_shown, reverse=True)
    assert scores_shown[0] > 0
    hidden_tile = page.locator(f".wall__cell[data-attempt='{attempt_ids[0]}']")
    await expect(hidden_tile.locator(".pbadge")).to_contain_text("left the exam tab")
    await expect(hidden_tile.locator(".pbadge")).to_contain_text("Medium severity")
    screens_tile = page.locator(f".wall__cell[data-attempt='{attempt_ids[1]}']")
    await expect(screens_tile.locator(".pbadge.badge--danger")).to_contain_text("extra screen")
    await expect(screens_tile.locator(".tile__name")).to_have_text(NAMES[1])
    await expect(page.locator(".tile__thumb img").first).to_be_visible()
    await until(
        page, "[...document.querySelectorAll('.tile__thumb img')].every(i => i.naturalWidth > 0)"
    )
    await expect(page.locator(".conn").first).to_contain_text("no video")
    await screenshots(page, folder, "wall")

    # The exam filter: one exam's tiles, kept in the address; then every exam again.
    await page.get_by_label("Exam", exact=True).select_option(label="Statistics 101 midterm")
    await expect(page.locator(".wall__cell")).to_have_count(14)
    assert "exam_id=" in page.url
    await expect(page.locator(".tile__exam").first).to_have_text("Statistics 101 midterm")
    await page.reload()
    await expect(page.locator(".wall__cell")).to_have_count(14)
    await expect(page.get_by_label("Exam", exact=True)).to_have_value(
        str(page.url.rsplit("=", 1)[-1])
    )
    await page.get_by_label("Exam", exact=True).select_option(label="All exams")
    await expect(page.locator(".wall__cell")).to_have_count(30)
    assert "exam_id=" not in page.url

    # A new alert on the quietest tile: it is outlined and counted, but nothing moves.
    before = await wall_order(page)
    quiet = before[-1]
    live.telemetry(quiet, "screens", {"count": 3})
    risen = page.locator(f".wall__cell[data-attempt='{quiet}']")
    await expect(risen).to_have_class(RISEN, timeout=10_000)
    await expect(risen.locator(".tile__risen")).to_contain_text("1 new alert")
    await expect(page.locator("#wall-new")).to_be_visible()
    await expect(page.locator("#wall-new")).to_contain_text("1 new alert")
    await expect(risen.locator(".pbadge")).to_contain_text("extra screen")
    assert await wall_order(page) == before
    await screenshots(page, folder, "wall-alert")

    # "Sort by risk" brings it up; looking at it clears the "new".
    await page.get_by_role("button", name="Sort by risk").click()
    after = await wall_order(page)
    assert after.index(quiet) < before.index(quiet)
    await page.locator("#wall-new").click()
    await expect(risen.locator(".tile")).to_be_focused()
    await expect(page.locator("#wall-new")).to_be_hidden()
    await expect(risen).not_to_have_class(RISEN)

    # Keyboard: one tab stop, arrows move, Enter opens the focus view.
    order = await wall_order(page)
    first = page.locator(f".wall__cell[data-attempt='{order[0]}'] .tile")
    await expect(page.locator(".wall .tile[tabindex='0']")).to_have_count(1)
    await first.focus()
    await page.keyboard.press("ArrowRight")
    await expect(page.locator(f".wall__cell[data-attempt='{order[1]}'] .tile")).to_be_focused()
    columns = await page.evaluate(
        "() => { const c = [...document.querySelectorAll('.wall__cell')];"
        " return c.filter(n => n.offsetTop === c[0].offsetTop).length; }"
    )
    assert columns >= 4  # a dense grid at 1280 px
    await page.keyboard.press("ArrowDown")
    target = order[1 + columns]
    await expect(page.locator(f".wall__cell[data-attempt='{target}'] .tile")).to_be_focused()
    await page.keyboard.press("ArrowLeft")
    target = order[columns]
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{server.base}/proctor/attempts/{target}")

    # The focus view: the tile's header, the timeline, an action that lands in the history.
    await expect(page.locator("#focus-tile .score__value")).to_be_visible()
    await expect(page.locator("#timeline li").first).to_be_visible()
    await expect(page.locator("#focus-live")).to_have_attribute("data-state", "live")
    await expect(page.locator("#focus-video")).to_have_js_property("muted", True)
    await page.get_by_role("button", name="Send message").click()
    await expect(page.locator("#action-text-error")).to_contain_text("Write the message first")
    await page.get_by_label("Text for the candidate").fill("Please keep your face in view.")
    await page.get_by_role("button", name="Send message").click()
    await expect(page.locator("#action-status")).to_contain_text("Message sent")
    await expect(page.locator("#action-history")).to_contain_text("Please keep your face in view.")
    await expect(page.locator("#timeline")).to_contain_text("Proctor: Message")
    async with services.db.session() as db:
        actions = (
            (await db.execute(select(ProctorAction).where(col(ProctorAction.attempt_id) == target)))
            .scalars()
            .all()
        )
    assert [(a.action, a.text, a.actor_id) for a in actions] == [
        ("message", "Please keep your face in view.", proctor.id)
    ]

    # A live alert for this attempt reaches its header and timeline without a reload.
    live.telemetry(target, "copy", {})
    await expect(page.locator("#focus-tile")).to_contain_text("copy or paste", timeout=10_000)
    await expect(page.locator("#timeline")).to_contain_text("Copy or paste started")

    # Pause and resume: the buttons follow at once, the attempt's clock in the database too.
    await page.get_by_role("button", name="Pause").click()
    await expect(page.locator("#action-status")).to_contain_text("Attempt paused")
    await expect(page.get_by_role("button", name="Resume")).to_be_visible()
    await expect(page.get_by_role("button", name="Pause")).to_be_hidden()
    await expect(page.locator("#focus-tile")).to_contain_text("Paused")
    async with services.db.session() as db:
        row = await db.get(Attempt, target)
        assert row is not None
        assert row.paused_at is not None
    await page.get_by_role("button", name="Resume").click()
    await expect(page.locator("#action-status")).to_contain_text("Attempt resumed")
    await expect(page.get_by_role("button", name="Pause")).to_be_visible()
    await expect(page.locator("#action-history li")).to_have_count(3)

    # Terminate asks first, and wants a reason.
    await page.get_by_role("button", name="Terminate…").click()
    dialog = page.get_by_role("dialog", name="Terminate this attempt?")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Terminate the attempt").click()
    await expect(page.locator("#terminate-reason-error")).to_contain_text("Give the reason")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await screenshots(page, folder, "focus")
    await page.get_by_role("button", name="Terminate…").click()
    await dialog.get_by_label("Reason (required)").fill("A second person answered for them.")
    await dialog.get_by_role("button", name="Terminate the attempt").click()
    await expect(page.locator("#action-status")).to_contain_text("Attempt terminated")
    await expect(page.get_by_role("button", name="Send message")).to_be_disabled()
    async with services.db.session() as db:
        row = await db.get(Attempt, target)
        assert row is not None
        assert row.status != "in_progress"

    await page.get_by_role("link", name="Open the review").click()
    await page.wait_for_url(f"{server.base}/proctor/review/{target}")
    await expect(page.locator("#review[data-loaded='true']")).to_be_attached()
    await context.close()
    assert console.problems == [], console.problems


async def finished_attempt(client: Client, services: Services, examiner: User) -> tuple[str, User]:
    """A submitted attempt of 30 minutes with four violations in the event log and snapshots."""
    (person,) = await candidates_named(services, ["Ada Lovelace"])
    started = await proctored_attempts(client, services, examiner, {"Physics final": [person]})
    attempt_id = started["Physics final"][0]
    await submit_attempt(client, person, attempt_id)
    end = time.time()
    begin = end - 30 * 60
    async with services.db.session() as db:
        row = await db.get(Attempt, attempt_id)
        assert row is not None
        row.started_at = datetime.fromtimestamp(begin, UTC)
        row.submitted_at = datetime.fromtimestamp(end, UTC)
        await db.commit()

    def violation(kind: str, at: float, lasted: float, count: int = 1) -> Violation:
        rule = RULES[kind]
        made = Violation(
            attempt_id=attempt_id,
            kind=kind,
            detector=rule.detector,
            label=rule.label,
            severity=rule.severity,
            started_at=begin + at,
            ended_at=begin + at + lasted,
            count=count,
        )
        made.text = made.describe()
        return made

    found = [
        violation("no_face", 5 * 60, 40),
        violation("tab_hidden", 12 * 60, 90),
        violation("clipboard", 20 * 60, 20, count=2),
        violation("multiple_faces", 25 * 60, 10),
    ]
    events: list[Event] = []
    for v in found:
        opened = v.model_copy(update={"ended_at": None, "count": 1})
        for kind, shown in (("violation.started", opened), ("violation.ended", v)):
            moment = shown.ended_at if shown.ended_at is not None else shown.started_at
            events.append(
                Event(
                    kind=kind,
                    ts=datetime.fromtimestamp(moment, UTC),
                    attempt_id=attempt_id,
                    source="rules",
                    data=shown.model_dump(mode="json"),
                )
            )
    await services.events.append(events)
    for minute in (1, 5, 12, 20, 25, 29):
        reason = "violation" if minute in (5, 25) else "interval"
        linked = {5: found[0].id, 25: found[3].id}.get(minute)
        await snapshots.take(
            services, attempt_id, FACE, begin + minute * 60 + 2, reason=reason, violation_id=linked
        )
    await scores.rescore(services, attempt_id)
    return attempt_id, person


async def stored_score(services: Services, attempt_id: str) -> float:
    async with services.db.session() as db:
        row = await db.get(ProctoringScore, attempt_id)
    assert row is not None
    return row.score


async def test_the_review_page_charts_the_score_and_a_dismissal_lowers_it(
    server: Server, client: Client, browser: Any, examiner: User, tmp_path: Path
) -> None:
    services = server.services
    attempt_id, _ = await finished_attempt(client, services, examiner)
    before = await stored_score(services, attempt_id)
    assert before > 40
    reviewer = await server.user(Role.EXAMINER, email="reviewer@example.com")
    folder = shots(tmp_path)

    console = Console()
    context = await browser.new_context(viewport=DESKTOP)
    page = console.watch(await context.new_page())
    await page.goto(f"{server.base}/login?next=/proctor/review/{attempt_id}")
    await sign_in(page, server.base, reviewer.email)
    await page.wait_for_url(f"{server.base}/proctor/review/{attempt_id}")
    await expect(page.locator("#review[data-loaded='true']")).to_be_attached()

    # The score over time as an SVG line, its numbers as a table, the violations on lanes.
    chart = page.locator("#score-plot svg[role='img']")
    await expect(chart).to_be_visible()
    assert int(await page.locator("#score-plot").get_attribute("data-points") or 0) >= 5
    await expect(chart.locator("polyline.chart__line")).to_have_count(1)
    await expect(page.locator("#score-now .score__value")).to_have_text(f"{before:g}")
    await expect(page.locator("#lanes .lane")).to_have_count(4)
    await expect(page.locator("#lanes .seg[data-severity='high']")).to_have_count(2)
    await expect(page.locator("#lanes")).to_contain_text("Several faces")
    await expect(page.locator("#snaps .snap")).to_have_count(6)
    await until(page, "[...document.querySelectorAll('.snap__img')].every(i => i.naturalWidth > 0)")

    # A snapshot opens larger.
    await page.locator("#snaps .snap").nth(1).click()
    viewer = page.get_by_role("dialog", name="Snapshot")
    await expect(viewer).to_be_visible()
    await until(page, "document.getElementById('snap-large').naturalWidth === 640")
    await expect(viewer).to_contain_text("2 of 6")
    await viewer.get_by_role("button", name="Close").click()
    await expect(viewer).to_be_hidden()

    # The breakdown shows each formula; the chart and the numbers agree with the API's.
    breakdown = page.locator("#breakdown")
    await expect(breakdown.locator("tbody tr")).to_have_count(4)
    await expect(breakdown).to_contain_text("10 + 20/min x 0.67 min")
    await screenshots(page, folder, "review")

    # Dismissing "no face" takes its points off the score, visibly and in the database.
    no_face = page.locator(".decision", has_text="No face")
    await no_face.get_by_label("Note").fill("Candidate bent down to pick up a pen.")
    await no_face.get_by_role("button", name="Dismiss").click()
    await expect(no_face.locator(".form-status")).to_contain_text("Dismissed. The score is now")
    after = await stored_score(services, attempt_id)
    assert after < before
    await expect(page.locator("#score-now .score__value")).to_have_text(f"{after:g}")
    await expect(breakdown.locator("tr.is-excluded del")).to_have_text("No face")
    await expect(page.locator(".decision", has_text="No face")).to_contain_text(
        "Dismissed by reviewer"
    )
    async with services.db.session() as db:
        decision = (
            await db.execute(
                select(ViolationReview).where(col(ViolationReview.attempt_id) == attempt_id)
            )
        ).scalar_one()
    assert (decision.decision, decision.note, decision.reviewer_id) == (
        "dismissed",
        "Candidate bent down to pick up a pen.",
        reviewer.id,
    )

    # Other weights: previewed without saving, then saved on request.
    await page.get_by_label("Left the exam tab: Weight").fill("0")
    await page.get_by_label("Left the exam tab: Per minute").fill("0")
    await page.get_by_role("button", name="Recompute").click()
    await expect(page.locator("#recompute-status")).to_contain_text("Not saved")
    preview = float(await page.locator("#recompute-result").get_attribute("data-score") or "nan")
    assert preview < after
    assert await stored_score(services, attempt_id) == after
    await screenshots(page, folder, "review-recompute")
    await page.get_by_role("button", name="Save this score").click()
    await expect(page.locator("#recompute-status")).to_contain_text("Saved")
    assert await stored_score(services, attempt_id) == preview
    await expect(page.locator("#score-now .score__value")).to_have_text(f"{preview:g}")
    await context.close()
    assert console.problems == [], console.problems


async def test_the_pages_answer_404_for_an_unknown_attempt(
    server: Server, client: Client, browser: Any
) -> None:
    proctor = await server.user(Role.PROCTOR)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await page.goto(f"{server.base}/login?next=/proctor")
    await sign_in(page, server.base, proctor.email)
    await page.wait_for_url(f"{server.base}/proctor")
    await expect(page.locator("#wall-empty")).to_be_visible()
    for path in ("attempts", "review"):
        response = await page.goto(f"{server.base}/proctor/{path}/{'0' * 32}")
        assert response is not None
        assert response.status == 404
        await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    await context.close()


@pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg is not installed")
async def test_the_focus_view_plays_the_candidates_live_video(
    server: Server, client: Client, examiner: User, tmp_path: Path
) -> None:
    services = server.services
    (person,) = await candidates_named(services, ["Grace Hopper"])
    started = await proctored_attempts(client, services, examiner, {"Compilers": [person]})
    attempt_id = started["Compilers"][0]
    proctor = await server.user(Role.PROCTOR)
    y4m = make_face_video(tmp_path)
    args = [*CHROMIUM_ARGS, *camera_args(y4m), "--allow-loopback-in-peer-connection"]
    console = Console()
    async with async_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            candidate = console.watch(await (await chromium.new_context()).new_page())
            await candidate.goto(f"{server.base}/login?next=/proctoring/check/{attempt_id}")
            await sign_in(candidate, server.base, person.email)
            await expect(candidate.locator("#rtc-state")).to_have_text("connected", timeout=20_000)

            page = console.watch(await (await chromium.new_context(viewport=DESKTOP)).new_page())
            await page.goto(f"{server.base}/login?next=/proctor/attempts/{attempt_id}")
            await sign_in(page, server.base, proctor.email)
            await page.wait_for_url(f"{server.base}/proctor/attempts/{attempt_id}")
            await expect(page.locator("#focus")).to_have_attribute(
                "data-video", "connected", timeout=20_000
            )
            await until(page, "document.getElementById('focus-video').videoWidth === 640", 20)
            await expect(page.locator("#focus-video-state")).to_contain_text("connected")
            await expect(page.locator("#focus-video-note")).to_be_hidden()
            video = page.locator("#focus-video")
            await expect(video).to_have_js_property("muted", True)
            await page.get_by_role("button", name="Unmute").click()
            await expect(video).to_have_js_property("muted", False)
            await expect(page.get_by_role("button", name="Mute")).to_have_attribute(
                "aria-pressed", "true"
            )
            await page.screenshot(path=str(shots(tmp_path) / "focus-video-1280.png"))
        finally:
            await chromium.close()
    assert console.problems == [], console.problems
