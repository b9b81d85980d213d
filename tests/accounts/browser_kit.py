"""Helpers for the accounts browser tests: a live server, a fake camera, signing in through the
page, and a watch on the console (CSP violations and script errors are test failures)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from core.services import Services
from core.settings import Settings
from storage.crud.user import create_user
from storage.tables.user import Role, User, UserCreate
from webapp.app import create_app
from webapp.keys import SERVICES

from .conftest import PASSWORD

HAVE_FFMPEG = shutil.which("ffmpeg") is not None
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 800}


@dataclass
class Server:
    base: str
    services: Services
    counter: int = 0

    async def user(self, role: Role, *, email: str | None = None, name: str | None = None) -> User:
        """A user made directly in the database, not through the API under test."""
        self.counter += 1
        async with self.services.db.session() as session:
            return await create_user(
                session,
                user_in=UserCreate(
                    email=email or f"{role.value}{self.counter}@example.com",
                    display_name=name or f"{role.value.title()} Person {self.counter}",
                    role=role,
                    password=PASSWORD,
                ),
            )

    async def get_user(self, user_id: int | None) -> User:
        async with self.services.db.session() as session:
            user = await session.get(User, user_id)
        assert user is not None
        return user


@asynccontextmanager
async def live_server(settings: Settings) -> AsyncIterator[Server]:
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        yield Server(f"http://127.0.0.1:{port}", runner.app[SERVICES])
    finally:
        await runner.cleanup()


def make_face_video(folder: Path) -> Path:
    """A two-second y4m of a real face photo for Chromium's fake camera."""
    from PIL import Image  # noqa: PLC0415
    from skimage import data  # noqa: PLC0415  (heavy; only the camera test needs it)

    png, y4m = folder / "face.png", folder / "face.y4m"
    Image.fromarray(data.astronaut()).save(png)  # type: ignore[no-untyped-call]
    # Fitted into 640x480 and padded: a stretched face would read as a bowed head.
    fit = (
        "scale=640:480:force_original_aspect_ratio=decrease,"
        "pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p"
    )
    command = ["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(png), "-vf",
               fit, "-r", "15", "-t", "2", str(y4m)]  # fmt: skip
    subprocess.run(command, check=True, timeout=60)
    return y4m


def camera_args(y4m: Path) -> list[str]:
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
    ]


@dataclass
class Console:
    """Console errors worth failing on. A refused fetch (401, 422) is logged by Chromium as
    "Failed to load resource"; those are expected answers here, everything else is not."""

    problems: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> Any:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        return page

    def _on_console(self, message: Any) -> None:
        if message.type in ("error", "warning") and "Failed to load resource" not in message.text:
            self.problems.append(message.text)


async def sign_in(page: Any, base: str, user_email: str, password: str = PASSWORD) -> None:
    """Sign in through the form, the way a person does."""
    if "/login" not in page.url:
        await page.goto(f"{base}/login")
    await page.get_by_label("Email address").fill(user_email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def until(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Poll a page expression until it is truthy. ``page.wait_for_function`` would need
    ``unsafe-eval``, which the pages' CSP rightly refuses."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await page.evaluate(expression):
        if loop.time() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        await asyncio.sleep(0.1)


async def session_live(page: Any) -> None:
    """Wait until the page's session WebSocket is open."""
    await page.wait_for_selector("html[data-session=live]", timeout=5000)


def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go: ``ACCOUNTS_SCREENSHOTS`` when set (to keep them), else tmp."""
    folder = Path(os.environ.get("ACCOUNTS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def screenshots(page: Any, folder: Path, name: str) -> None:
    """Full-page shots at desktop and phone width; the phone must not scroll sideways."""
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(folder / f"{name}-1280.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width} px)"
    await page.screenshot(path=str(folder / f"{name}-375.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


async def reset_link_token(services: Services, address: str, *, timeout: float = 5.0) -> str:
    """The token of the newest reset mail to ``address`` in the blob-store outbox."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for info in sorted(await services.blobs.list("outbox/"), key=lambda i: i.key, reverse=True):
            message = email.message_from_bytes(
                await services.blobs.get(info.key), policy=email.policy.default
            )
            if address in str(message["To"]):
                body = message.get_body(("plain",))
                assert body is not None
                match = re.search(r"/reset\?token=([A-Za-z0-9_\-%.~]+)", body.get_content())
                assert match, body.get_content()
                return match.group(1)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no reset mail for {address} in the outbox")
