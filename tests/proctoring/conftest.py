"""Fixtures for the proctoring plugin: the exams fixtures (header sign-in, real app) with a
``[proctoring]`` section that gathers on loopback and uses no ICE servers, and an attempt."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web

from core.services import Services
from core.settings import Settings, load_settings
from plugins.exams.tables import Attempt
from storage.tables.user import User
from tests.exams import conftest as exams
from tests.exams.support import Client, add_question, create_exam, fixed, principal_from, start
from webapp.app import create_app
from webapp.keys import AUTHENTICATE, Principal

# The exams fixtures (header sign-in, users, the test client) reused as they are.
client = exams.client
services = exams.services
examiner = exams.examiner
admin = exams.admin
candidates = exams.candidates
candidate = exams.candidate
database_url = exams.database_url

PROCTORING = "ice_servers = []\nbind_loopback = true\n"


async def authenticate(request: web.Request) -> Principal | None:
    """``X-Test-User`` as in the exams tests, plus ``X-Test-Session`` for revocation tests."""
    header = request.headers.get("X-Test-User")
    if not header:
        return None
    return replace(principal_from(header), session_id=request.headers.get("X-Test-Session"))


def write_plugins_file(folder: Path, proctoring: str = PROCTORING) -> Path:
    path = folder / "plugins.toml"
    # The identity detector would add a "No enrolled photo" violation to every attempt here
    # (nobody enrolled); tests/detectors/test_identity.py covers it.
    identity = "[detector_identity]\nenabled = false\n"
    path.write_text(f"[plugins]\nentry_points = false\n\n[proctoring]\n{proctoring}\n\n{identity}")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=write_plugins_file(tmp_path),
        log_format="text",
        rate_limit_per_minute=0,
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )


@pytest.fixture
def app(settings: Settings) -> web.Application:
    application = create_app(settings)
    application[AUTHENTICATE] = authenticate
    return application


@pytest.fixture
async def attempt_id(client: Client, services: Services, examiner: User, candidate: User) -> str:
    """An in-progress attempt of ``candidate``, started through the candidate API."""
    question = await add_question(services, "essay")
    exam = await create_exam(client, examiner, sections=[fixed(question)], candidates=[candidate])
    return str((await start(client, candidate, exam["id"]))["id"])


async def finish(services: Services, attempt: str) -> None:
    """Mark the attempt submitted straight in the database."""
    async with services.db.session() as db:
        row = await db.get(Attempt, attempt)
        assert row is not None
        row.status = "submitted"
        await db.commit()
