"""200 candidates autosaving at once against a real MariaDB lose nothing.

Every candidate starts the same exam at the same moment, then sends several saves per item all
at once and out of order, through the HTTP API. Afterwards every item must hold exactly the
newest acknowledged save: its seq and its response. Any other answer than 200 or
``409 stale_answer`` (a lock timeout, a deadlock that escaped, a 500) fails the test.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlmodel import col

from core.services import Services
from core.settings import Settings
from plugins.exams.tables import Answer, Attempt
from storage.migrate import upgrade
from tests.exams.conftest import header_authenticate
from tests.exams.support import (
    Client,
    add_question,
    add_users,
    create_exam,
    fixed,
    headers,
    save,
    start,
)
from webapp.app import create_app, load_plugin_manager
from webapp.keys import AUTHENTICATE
from webapp.lifecycle import plugin_migration_dirs

CANDIDATES = 200
ITEMS = 4
SEQS = 3


@pytest.fixture
def database_url(mysql_url: str) -> str:
    return mysql_url


@pytest.fixture
def app(settings: Settings) -> web.Application:
    """As in conftest, after migrating the MariaDB schema (servers never migrate MySQL)."""
    upgrade(settings.effective_database_url, plugin_migration_dirs(load_plugin_manager(settings)))
    application = create_app(settings)
    application[AUTHENTICATE] = header_authenticate
    return application


async def test_two_hundred_candidates_autosaving_lose_nothing(
    client: Client, services: Services
) -> None:
    assert services.db.engine.dialect.name == "mysql"  # type: ignore[attr-defined]
    examiner = (await add_users(services, "examiner", 1))[0]
    people = await add_users(services, "candidate", CANDIDATES)
    questions = [await add_question(services, "short_answer") for _ in range(ITEMS)]
    exam = await create_exam(client, examiner, sections=[fixed(*questions)], candidates=people)

    started = await asyncio.gather(*(start(client, user, exam["id"]) for user in people))
    attempts = {user.id: attempt["id"] for user, attempt in zip(people, started, strict=True)}
    assert len(set(attempts.values())) == CANDIDATES

    rng = random.Random(7)
    sends: list[tuple[Any, str, int, int]] = [
        (user, attempts[user.id], item, seq)
        for user in people
        for item in range(ITEMS)
        for seq in range(1, SEQS + 1)
    ]
    rng.shuffle(sends)

    async def send(
        user: Any, attempt: str, item: int, seq: int
    ) -> tuple[str, int, int, int, dict[str, Any]]:
        status, body = await save(
            client, user, attempt, item, {"text": f"{attempt}/{item}/{seq}"}, seq
        )
        return attempt, item, seq, status, body

    outcomes = await asyncio.gather(*(send(*s) for s in sends))

    newest: dict[tuple[str, int], int] = defaultdict(int)
    unexpected = []
    for attempt, item, seq, status, body in outcomes:
        if status == 200:
            newest[attempt, item] = max(newest[attempt, item], seq)
        elif status != 409 or body["error"]["code"] != "stale_answer":
            unexpected.append((status, body))
    assert unexpected == []
    assert len(newest) == CANDIDATES * ITEMS
    assert set(newest.values()) == {SEQS}  # nothing is newer than the last seq

    async with services.db.session() as db:
        rows = await db.execute(
            select(Answer)
            .join(Attempt, col(Attempt.id) == col(Answer.attempt_id))
            .where(col(Attempt.exam_id) == exam["id"])
        )
        stored = {(a.attempt_id, a.item): (a.seq, a.response) for a in rows.scalars()}
    assert len(stored) == CANDIDATES * ITEMS
    for (attempt, item), seq in newest.items():
        assert stored[attempt, item] == (seq, {"text": f"{attempt}/{item}/{seq}"})

    sample = people[0]
    shown = await client.get(f"/api/v1/attempts/{attempts[sample.id]}", headers=headers(sample))
    assert [i["answer"]["seq"] for i in (await shown.json())["items"]] == [SEQS] * ITEMS
