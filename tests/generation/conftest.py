"""Fixtures for the generation plugin: the real app on embedded backends, signed in by a header
(``X-Test-User: <id>:<role>``, as in the exams tests), with ``[generation]`` set per module.

The judge plugin is switched off so that the stand-in judge (``judge_plugin``) is the only one
answering when a test loads it, and "no judge installed" can be tested at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.services import Services
from core.settings import Settings, load_settings
from storage.tables.user import User
from tests.exams.conftest import header_authenticate
from tests.exams.support import Client, add_users
from webapp.app import create_app
from webapp.keys import AUTHENTICATE, SERVICES

JUDGE = "tests.generation.judge_plugin"
GENERATORS = "tests.generation.generator_plugin"
PASSAGE = (Path(__file__).parent / "data" / "photosynthesis.md").read_text()


def plugins_file(
    folder: Path, generation: str, modules: tuple[str, ...], disabled: tuple[str, ...]
) -> Path:
    path = folder / "plugins.toml"
    listed = ", ".join(f'"{m}"' for m in modules)
    off = ", ".join(f'"{m}"' for m in disabled)
    path.write_text(
        f"[plugins]\nentry_points = false\ndisabled = [{off}]\nmodules = [{listed}]\n\n"
        f"[generation]\n{generation}\n"
    )
    return path


@pytest.fixture
def generation_config() -> str:
    """Override in a module to change ``[generation]`` settings (TOML lines)."""
    return ""


@pytest.fixture
def extra_plugins() -> tuple[str, ...]:
    return ()


@pytest.fixture
def disabled_plugins() -> tuple[str, ...]:
    """Built-ins switched off: the real judge, unless a module tests with it."""
    return ("judge",)


@pytest.fixture
def settings(
    tmp_path: Path,
    generation_config: str,
    extra_plugins: tuple[str, ...],
    disabled_plugins: tuple[str, ...],
) -> Settings:
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=plugins_file(tmp_path, generation_config, extra_plugins, disabled_plugins),
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
async def examiner(services: Services) -> User:
    return (await add_users(services, "examiner", 1))[0]


def as_user(user: User) -> dict[str, str]:
    return {"X-Test-User": f"{user.id}:{user.role.value}"}


async def finished_job(client: Client, user: User, job_id: int) -> dict[str, Any]:
    """Poll the job as the page does until it is done or failed."""
    for _ in range(600):
        response = await client.get(f"/api/v1/generation/jobs/{job_id}", headers=as_user(user))
        assert response.status == 200, await response.text()
        job: dict[str, Any] = await response.json()
        if job["status"] in ("done", "failed"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


async def drafts_of(client: Client, user: User, job_id: int) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/generation/drafts", params={"job_id": job_id}, headers=as_user(user)
    )
    assert response.status == 200, await response.text()
    items: list[dict[str, Any]] = (await response.json())["items"]
    return items
