"""The bell and the notifications page in headless Chromium: a new notification shows up live
in the header, is listed on the page, and marking it read clears the bell; settings save."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core import domain_events
from core.settings import Settings
from plugins.notify.tables import NotifyMessage, NotifyPreference
from storage.tables.user import Role
from tests.accounts.browser_kit import (
    Console,
    Server,
    live_server,
    screenshots,
    shots_dir,
    sign_in,
    until,
)
from tests.notify.support import messages
from tests.webapp.test_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed"),
]


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    async with live_server(settings) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with async_api.async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def test_bell_inbox_and_settings(server: Server, browser: Any, tmp_path: Path) -> None:
    person = await server.user(Role.CANDIDATE)
    console = Console()
    page = console.watch(await browser.new_page())
    await sign_in(page, server.base, person.email)
    await page.wait_for_url(lambda url: "/login" not in url)
    await page.goto(f"{server.base}/notifications")
    bell = page.locator("[data-notify-bell]")
    count = bell.locator("[data-notify-count]")
    await expect(bell).to_be_visible()
    await expect(count).to_be_hidden()
    await expect(page.locator("#notify-categories tr")).to_have_count(5)  # no proctor alerts

    await until(page, "document.getElementById('notify-unread') !== null")
    await page.wait_for_timeout(300)  # the bell's socket says hello first
    await domain_events.emit(
        server.services,
        "ticket.replied",
        {"ticket_id": 3, "subject": "Webcam", "recipient_ids": [person.id], "url": "/support"},
    )
    await expect(count).to_have_text("1")
    await expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")
    await expect(page.locator(".notify-item")).to_have_count(1)
    await expect(page.locator(".notify-item").first).to_contain_text("Webcam")
    await screenshots(page, shots_dir(tmp_path), "notifications")

    await page.get_by_role("button", name="Mark read").click()
    await expect(count).to_be_hidden()
    await expect(page.locator(".notify-item--unread")).to_have_count(0)

    locked = page.get_by_label("Account and security: email")
    await expect(locked).to_be_disabled()
    await page.get_by_label("Reminders before an exam: email").uncheck()
    await page.get_by_label("Mobile number for SMS (E.164)").fill("+447700900123")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#notify-status")).to_have_text("Saved.")
    async with server.services.db.session() as db:
        pref = await db.get(NotifyPreference, person.id)
    assert pref is not None
    assert pref.opt_outs == ["reminders:email"]
    assert pref.phone == "+447700900123"
    assert console.problems == []


async def test_admin_history_filters_and_retry(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    admin = await server.user(Role.ADMIN)
    async with server.services.db.session() as db:
        db.add_all(
            [
                NotifyMessage(event="exam.reminder", category="reminders", channel="email",
                              recipient="a@example.com", subject="Reminder", status="sent",
                              provider_id="<id@example>", attempts=1),
                NotifyMessage(event="exam.reminder", category="reminders", channel="sms",
                              recipient="+447700900123", subject="Reminder", status="failed",
                              last_error="Twilio 400 code 21211: invalid number", attempts=1),
            ]
        )  # fmt: skip
        await db.commit()
    console = Console()
    page = console.watch(await browser.new_page())
    await sign_in(page, server.base, admin.email)
    await page.wait_for_url(lambda url: "/login" not in url)
    await page.goto(f"{server.base}/admin/notifications")
    rows = page.locator("#notify-rows tr")
    await expect(rows).to_have_count(2)
    await page.get_by_label("Status").select_option("failed")
    await page.get_by_role("button", name="Filter").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("21211")
    await screenshots(page, shots_dir(tmp_path), "deliveries")

    # Retry: the message is tried again (and fails again, for SMS is not configured here).
    await page.get_by_role("button", name="Retry").click()
    for _ in range(100):
        [sms] = await messages(server.services, channel="sms")
        if "not configured" in sms.last_error:
            break
        await asyncio.sleep(0.05)
    assert sms.status == "failed"
    assert "not configured" in sms.last_error
    await page.get_by_role("button", name="Filter").click()
    await expect(rows.first).to_contain_text("not configured")
    assert console.problems == []
