"""The accounts pages in headless Chromium against a real server: single session, admin user
management, a candidate's consent and reference photo from a (fake) camera, and a password
reset. Screenshots are written for a person to look at (folder printed with ``-s``)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.settings import Settings
from plugins.accounts.tables import FaceEnrollment
from storage.tables.user import Role
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

from .browser_kit import (
    DESKTOP,
    HAVE_FFMPEG,
    Console,
    Server,
    camera_args,
    live_server,
    make_face_video,
    reset_link_token,
    screenshots,
    session_live,
    shots_dir,
    sign_in,
    until,
)
from .conftest import PASSWORD

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]
NEW_PASSWORD = "a fresh and unusual passphrase"


@pytest.fixture
def accounts_config() -> str:
    """Throttle from the first failure, so the sign-in page's wait can be seen quickly."""
    return "login_failures_before_delay = 1"


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    async with live_server(settings) as running:
        yield running


@pytest.fixture(scope="session")
def face_video(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    return make_face_video(tmp_path_factory.mktemp("camera")) if HAVE_FFMPEG else None


@pytest.fixture
async def browser(face_video: Path | None) -> AsyncIterator[Any]:
    args = CHROMIUM_ARGS + (camera_args(face_video) if face_video else [])
    async with async_api.async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=args)
        yield launched
        await launched.close()


@pytest.fixture
def console() -> Console:
    return Console()


async def new_page(browser: Any, console: Console, **options: Any) -> Any:
    context = await browser.new_context(viewport=DESKTOP, **options)
    return console.watch(await context.new_page())


async def test_signing_in_elsewhere_signs_the_first_page_out(
    server: Server, browser: Any, console: Console, tmp_path: Path
) -> None:
    user = await server.user(Role.EXAMINER)
    first = await new_page(browser, console)
    await first.goto(f"{server.base}/profile?tab=1")  # not signed in: sent to sign in first
    await sign_in(first, server.base, user.email)
    await first.wait_for_url(f"{server.base}/profile?tab=1")
    await session_live(first)
    assert await first.evaluate("fetch('/api/v1/auth/me').then(r => r.status)") == 200

    second = await new_page(browser, console)
    await sign_in(second, server.base, user.email)
    await second.wait_for_url(f"{server.base}/profile")

    dialog = first.locator("#session-ended")
    await dialog.wait_for(state="visible", timeout=5000)
    assert "signed in on another device" in await dialog.inner_text()
    assert await first.evaluate("document.documentElement.dataset.session") == "ended"
    assert await first.locator("#profile-name").is_disabled()
    assert await first.get_by_role("button", name="Change password").is_disabled()
    assert await first.evaluate("fetch('/api/v1/auth/me').then(r => r.status)") == 401
    assert await second.evaluate("fetch('/api/v1/auth/me').then(r => r.status)") == 200
    await first.screenshot(path=str(shots_dir(tmp_path) / "signed-out-1280.png"))

    await session_live(second)
    await second.get_by_role("link", name="Sign out").click()  # one click, a POST underneath
    await second.wait_for_url(f"{server.base}/login?signed_out=1")
    await second.get_by_text("You are signed out.").wait_for()
    assert await second.evaluate("fetch('/api/v1/auth/me').then(r => r.status)") == 401

    await dialog.get_by_role("link", name="Sign in again").click()
    await first.wait_for_url(f"{server.base}/login?next=%2Fprofile%3Ftab%3D1")
    await sign_in(first, server.base, user.email)
    await first.wait_for_url(f"{server.base}/profile?tab=1")  # back where they were
    await session_live(first)
    assert not console.problems, console.problems


async def test_admin_creates_imports_and_disables_users(
    server: Server, browser: Any, console: Console, tmp_path: Path
) -> None:
    admin = await server.user(Role.ADMIN, name="Ada Admin")
    for _ in range(3):
        await server.user(Role.CANDIDATE)
    page = await new_page(browser, console)
    await sign_in(page, server.base, admin.email)
    await page.wait_for_url(f"{server.base}/admin/users")
    await session_live(page)
    rows = page.locator("#users-body tr")
    await expect(page.locator("#users-body tr[data-id]")).to_have_count(4)
    status = page.locator("#users-status")

    create = page.locator("#create-form")
    await create.get_by_label("Email address").fill("new.examiner@example.com")
    await create.get_by_label("Name").fill("Nora Examiner")
    await create.get_by_label("Role").select_option("examiner")
    await create.get_by_role("button", name="Add user").click()
    await page.locator("#create-status").get_by_text("Added Nora Examiner as Examiner").wait_for()
    await rows.filter(has_text="new.examiner@example.com").wait_for()

    bad = b"email,display_name,role\nnot-an-email,Bad One,candidate\nok@example.com,Fine,wizard\n"
    await page.locator("#import-file").set_input_files(
        files=[{"name": "class.csv", "mimeType": "text/csv", "buffer": bad}]
    )
    await page.get_by_role("button", name="Check file").click()
    errors = page.locator("#import-errors")
    await errors.wait_for(state="visible")
    assert (await errors.locator("li").all_inner_texts())[0].startswith("Line 2: email")
    assert "Line 3: role 'wizard'" in await errors.inner_text()
    assert "nothing was imported" in await page.locator("#import-status").inner_text()

    await page.locator("#import-file").set_input_files(files=[])
    good = "email,display_name,role\nima.one@example.com,Ima One,candidate\n"
    await page.locator("#import-text").fill(good + "ima.two@example.com,Ima Two,proctor\n")
    await page.get_by_role("button", name="Check file").click()
    await page.get_by_text("Every line is valid: 2 users would be added").wait_for()
    assert await errors.is_hidden()
    await page.get_by_role("button", name="Import users").click()
    await page.get_by_text("Imported 2 users").wait_for()
    await rows.filter(has_text="ima.two@example.com").wait_for()

    target = rows.filter(has_text="ima.one@example.com")
    await target.get_by_role("button", name="Disable Ima One").click()
    await status.get_by_text("Ima One is disabled and was signed out.").wait_for()
    assert "Disabled" in await target.inner_text()

    await page.get_by_label("Search").fill("ima.")
    await expect(page.locator("#users-body tr[data-id]")).to_have_count(2)
    await page.get_by_label("Select every user on this page").check()
    await page.get_by_label("Action for the selected users").select_option("set_role")
    await page.get_by_label("New role for the selected users").select_option("examiner")
    await page.get_by_role("button", name="Apply to selected").click()
    await status.get_by_text("Done: 2 users set to Examiner.").wait_for()

    async with server.services.db.session() as session:
        from storage.tables.user import User  # noqa: PLC0415

        imported = {u.email: u for u in (await session.execute(select(User))).scalars()}
    assert imported["ima.one@example.com"].is_active is False
    assert {imported[e].role for e in ("ima.one@example.com", "ima.two@example.com")} == {
        Role.EXAMINER
    }
    await page.get_by_role("button", name="Clear").first.click()
    await expect(page.locator("#users-body tr[data-id]")).to_have_count(7)
    await screenshots(page, shots_dir(tmp_path), "admin-users")

    await page.get_by_role("link", name="Audit log").click()
    summary, events = page.locator("#audit-summary"), page.locator("#audit-body tr")
    await expect(summary).to_have_text("Showing 1\u20138 of 8 events.")
    await page.get_by_label("Event", exact=True).select_option("user.disabled")
    await expect(summary).to_have_text("Showing 1\u20131 of 1 event.")
    assert f"\t{imported['ima.one@example.com'].id}\t" in await events.inner_text()
    await page.get_by_label("Event", exact=True).select_option("")
    await expect(events.filter(has_text="users.imported")).to_have_count(1)
    await screenshots(page, shots_dir(tmp_path), "admin-audit")
    assert not console.problems, console.problems


@pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg is needed to make the fake camera video")
async def test_candidate_consents_and_saves_a_reference_photo(
    server: Server, browser: Any, console: Console, tmp_path: Path
) -> None:
    candidate = await server.user(Role.CANDIDATE, name="Cleo Candidate")
    page = await new_page(browser, console, permissions=["camera"])
    await sign_in(page, server.base, candidate.email)
    await page.wait_for_url(f"{server.base}/profile")
    state = page.locator("#enrollment-state")
    await state.get_by_text("No reference photo yet").wait_for()
    await screenshots(page, shots_dir(tmp_path), "profile-candidate-consent")

    await page.get_by_role("button", name="Give consent").click()
    assert "Tick the box" in await page.locator("#consent-check-error").inner_text()
    await page.get_by_label("I have read the text above").check()
    await page.get_by_role("button", name="Give consent").click()
    await page.get_by_text("Consent recorded").wait_for()
    await page.get_by_role("button", name="Start camera").click()
    await until(page, "document.getElementById('camera-video').videoWidth >= 160")
    await page.get_by_role("button", name="Take photo").click()
    await page.screenshot(path=str(shots_dir(tmp_path) / "profile-camera-1280.png"), full_page=True)
    await page.get_by_role("button", name="Save this photo").click()
    await page.get_by_text("Photo saved").wait_for()
    photo = page.locator("#stored-photo-img")
    await photo.wait_for(state="visible")
    await until(page, "document.getElementById('stored-photo-img').naturalWidth >= 160")
    assert "Kept until" in await page.locator("#stored-photo-note").inner_text()
    async with server.services.db.session() as session:
        query = select(FaceEnrollment).where(FaceEnrollment.user_id == candidate.id)  # type: ignore[arg-type]
        row = (await session.execute(query)).scalar_one()
    assert row.status == "active"
    assert row.blob_key is not None
    assert (await server.services.blobs.get(row.blob_key))[:2] == b"\xff\xd8"  # a JPEG
    await screenshots(page, shots_dir(tmp_path), "profile-candidate")

    await page.get_by_role("button", name="Withdraw consent and delete my photo").click()
    await page.get_by_role("button", name="Yes, withdraw and delete").click()
    await page.get_by_text("Consent withdrawn").wait_for()
    assert await photo.is_hidden()
    assert not await server.services.blobs.list(f"enrollment/{candidate.id}/")
    assert not console.problems, console.problems


async def test_forgot_and_reset_password(
    server: Server, browser: Any, console: Console, tmp_path: Path
) -> None:
    user = await server.user(Role.PROCTOR, email="pat.proctor@example.com", name="Pat Proctor")
    page = await new_page(browser, console)
    await page.goto(f"{server.base}/login")
    await screenshots(page, shots_dir(tmp_path), "login")
    await page.get_by_role("link", name="Forgot your password?").click()
    await page.get_by_label("Email address").fill(user.email)
    await page.get_by_role("button", name="Send the reset link").click()
    await page.get_by_text("a reset link is on its way").wait_for()

    token = await reset_link_token(server.services, user.email)
    await page.goto(f"{server.base}/reset?token={token}")
    assert page.url == f"{server.base}/reset"  # the token left the address bar
    await page.get_by_label("New password", exact=True).fill("password")
    await page.get_by_label("New password again").fill("password")
    await page.get_by_role("button", name="Save the new password").click()
    await page.locator("#reset-password-error").get_by_text("too common").wait_for()
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("New password again").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Save the new password").click()
    await page.get_by_role("link", name="Sign in with it now").click()

    await sign_in(page, server.base, user.email, PASSWORD)  # the old one no longer works
    await page.get_by_text("do not match an active account").wait_for()
    await sign_in(page, server.base, user.email, PASSWORD)  # too soon: throttled, with a wait
    button = page.locator("#login-form button[type=submit]")
    await expect(button).to_have_text(re.compile(r"^Wait \d+ s$"))
    assert await button.is_disabled()
    await page.get_by_text("You can try again now.").wait_for(timeout=35_000)
    email_field = page.get_by_label("Email address")  # this time with the keyboard only
    await email_field.fill("")
    await email_field.focus()
    await page.keyboard.type(user.email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(NEW_PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{server.base}/profile")
    assert (await server.get_user(user.id)).email == user.email
    assert not console.problems, console.problems
