"""Fixtures for the exams plugin: the real app on embedded backends, signed in by a header.

Authentication is not what these tests are about, so ``X-Test-User: <id>:<role>`` stands in
for the accounts plugin's tokens (the restart test signs in for real). The exams clock is
replaced by :class:`~tests.exams.support.FakeClock` wherever a test moves time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.services import Services
from core.settings import Settings, load_settings
from plugins.exams import clock
from storage.tables.user import User
from tests.exams.support import Client, FakeClock, add_users, principal_from
from webapp.app import create_app
from webapp.keys import AUTHENTICATE, SERVICES, Principal

JUDGE = "tests.exams.judge_plugin"


async def header_authenticate(request: web.Request) -> Principal | None:
    header = request.headers.get("X-Test-User")
    return principal_from(header) if header else None


def exams_plugins_file(folder: Path, exams: str = "", modules: tuple[str, ...] = ()) -> Path:
    path = folder / "plugins.toml"
    listed = ", ".join(f'"{m}"' for m in modules)
    # The built-in judge is off here: these tests grade code with the stand-in judge (or
    # leave it to a person); tests/judge covers the built-in one.
    path.write_text(
        f'[plugins]\nentry_points = false\ndisabled = ["judge"]\nmodules = [{listed}]\n\n'
        f"[exams]\n{exams}\n"
    )
    return path


@pytest.fixture
def exams_config() -> str:
    """Override in a module to change ``[exams]`` settings (TOML lines)."""
    return ""


@pytest.fixture
def extra_plugins() -> tuple[str, ...]:
    """Override in a module to load more plugin modules (e.g. the test judge)."""
    return ()


@pytest.fixture
def database_url() -> str:
    """Override to run against another database (default: SQLite in the data folder)."""
    return ""


@pytest.fixture
def settings(
    tmp_path: Path, exams_config: str, extra_plugins: tuple[str, ...], database_url: str
) -> Settings:
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=exams_plugins_file(tmp_path, exams_config, extra_plugins),
        database_url=database_url,
        log_format="text",
        rate_limit_per_minute=0,
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )


@pytest.fixture
def app(settings: Settings) -> web.Application:
    application = create_app(settings)
    application[AUTHENTICATE] = header_authenticate
    return application


@pytest.fixture
async def client(app: web.Application) -> AsyncIterator[Client]:
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
def services(client: Client) -> Services:
    return client.app[SERVICES]


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Freeze the exams clock at a fixed instant; ``fake_clock.advance(minutes=5)`` moves it."""
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake.now)
    return fake


@pytest.fixture
async def examiner(services: Services) -> User:
    return (await add_users(services, "examiner", 1))[0]


@pytest.fixture
async def admin(services: Services) -> User:
    return (await add_users(services, "admin", 1))[0]


@pytest.fixture
async def candidates(services: Services) -> list[User]:
    return await add_users(services, "candidate", 3)


@pytest.fixture
async def candidate(candidates: list[User]) -> User:
    return candidates[0]
