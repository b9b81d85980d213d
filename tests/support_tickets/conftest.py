"""Fixtures for the support tests: the exams app fixtures (real app, embedded backends, the
``X-Test-User`` header) plus the event listener, a proctor desk and candidates in an exam."""

from __future__ import annotations

from typing import Any

import pytest

from core.services import Services
from storage.tables.user import User
from tests.exams import conftest as exams
from tests.exams.support import Client, add_question, add_users, create_exam, fixed, start

# The exams fixtures (header sign-in, real app, users, the test client) reused as they are.
settings = exams.settings
exams_config = exams.exams_config
database_url = exams.database_url
app = exams.app
client = exams.client
services = exams.services
examiner = exams.examiner
admin = exams.admin
candidates = exams.candidates
candidate = exams.candidate

LISTENER = "tests.support_tickets.listener_plugin"


@pytest.fixture
def extra_plugins() -> tuple[str, ...]:
    """Load the listener that records every domain event."""
    return (LISTENER,)


@pytest.fixture
async def proctors(services: Services) -> list[User]:
    return await add_users(services, "proctor", 2)


@pytest.fixture
async def sitting(
    client: Client, services: Services, examiner: User, candidates: list[User]
) -> dict[str, Any]:
    """An exam of two questions that the first two candidates have started."""
    ids = [await add_question(services, kind) for kind in ("true_false", "numeric")]
    exam = await create_exam(
        client, examiner, sections=[fixed(*ids)], candidates=candidates, title="Physics"
    )
    first = await start(client, candidates[0], exam["id"])
    second = await start(client, candidates[1], exam["id"])
    return {"exam": exam, "attempt": first, "other_attempt": second}
