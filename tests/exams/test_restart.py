"""A real ``invigilator serve`` stopped mid-attempt and started again on the same data folder
keeps the attempt's deadline and every acknowledged answer.

Everything goes through HTTP with real sign-in tokens; only the two accounts are written to the
database beforehand (the API cannot create the first examiner).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.settings import Settings, load_settings
from storage.database import SqlDatabase
from storage.migrate import upgrade
from storage.tables.user import Role, User
from tests.app.test_server_process import ROOT, running_server
from tests.exams.conftest import exams_plugins_file
from tests.exams.support import PASSWORD, PASSWORD_HASH, PAYLOADS, RIGHT
from webapp.app import load_plugin_manager
from webapp.lifecycle import plugin_migration_dirs

Session = aiohttp.ClientSession


async def _accounts(settings: Settings) -> int:
    """The examiner and the candidate; returns the candidate's user id."""
    database = SqlDatabase(settings.effective_database_url)
    try:
        async with database.session() as db:
            people = [
                User(
                    email=email,
                    display_name=role.title(),
                    role=Role(role),
                    password_hash=PASSWORD_HASH,
                )
                for email, role in (
                    ("examiner@example.com", "examiner"),
                    ("sam@example.com", "candidate"),
                )
            ]
            db.add_all(people)
            await db.commit()
            assert people[1].id is not None
            return people[1].id
    finally:
        await database.close()


async def _call(
    http: Session, method: str, url: str, token: str, body: Any = None
) -> tuple[int, Any]:
    async with http.request(
        method, url, json=body, headers={"Authorization": f"Bearer {token}"}
    ) as response:
        return response.status, await response.json(content_type=None)


async def _login(http: Session, base: str, email: str) -> str:
    async with http.post(
        f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    ) as response:
        assert response.status == 200, await response.text()
        token: str = (await response.json())["access_token"]
        return token


async def _first_life(base: str, user_id: int) -> tuple[str, str, dict[str, Any]]:
    """Set an exam up, start it and save answers; returns tokens and the started attempt."""
    async with Session() as http:
        examiner = await _login(http, base, "examiner@example.com")
        ids = []
        for kind in ("single_choice", "short_answer", "numeric"):
            question = {"type": kind, "title": f"Q {kind}", "payload": PAYLOADS[kind]}
            status, body = await _call(http, "POST", f"{base}/api/v1/questions", examiner, question)
            assert status == 201, body
            ids.append(body["id"])
        exam_body = {
            "title": "Restart drill",
            "duration_minutes": 90,
            "shuffle_questions": False,
            "sections": [{"rules": [{"question_id": i} for i in ids]}],
        }
        status, exam = await _call(http, "POST", f"{base}/api/v1/exams", examiner, exam_body)
        assert status == 201, exam
        status, body = await _call(
            http,
            "PUT",
            f"{base}/api/v1/exams/{exam['id']}/candidates",
            examiner,
            {"candidates": [{"user_id": user_id}]},
        )
        assert status == 200, body
        status, body = await _call(
            http, "POST", f"{base}/api/v1/exams/{exam['id']}/publish", examiner
        )
        assert status == 200, body

        candidate = await _login(http, base, "sam@example.com")
        status, attempt = await _call(
            http, "POST", f"{base}/api/v1/my/exams/{exam['id']}/attempts", candidate
        )
        assert status == 201, attempt
        answers = [
            (0, {"selected": ["c"]}, 1),
            (1, RIGHT["short_answer"], 1),
            (2, {"value": 3.5}, 4),
            (0, RIGHT["single_choice"], 2),
        ]
        for item, response, seq in answers:
            url = f"{base}/api/v1/attempts/{attempt['id']}/answers/{item}"
            status, body = await _call(
                http, "PUT", url, candidate, {"seq": seq, "response": response}
            )
            assert status == 200, body
        return examiner, candidate, attempt


async def _second_life(base: str, candidate: str, attempt: dict[str, Any]) -> None:
    url = f"{base}/api/v1/attempts/{attempt['id']}"
    async with Session() as http:
        status, shown = await _call(http, "GET", url, candidate)
        assert status == 200, shown
        assert shown["deadline_at"] == attempt["deadline_at"]
        assert shown["status"] == "in_progress"
        saved = [(i["answer"]["seq"], i["answer"]["response"]) for i in shown["items"]]
        assert saved == [
            (2, RIGHT["single_choice"]),
            (1, {"text": "  paris "}),
            (4, {"value": 3.5}),
        ]

        status, body = await _call(
            http, "PUT", f"{url}/answers/2", candidate, {"seq": 4, "response": {"value": 1}}
        )
        assert (status, body["error"]["code"]) == (409, "stale_answer")
        status, body = await _call(http, "POST", f"{url}/submit", candidate)
        assert (status, body["status"]) == (200, "graded")


@pytest.mark.timeout(240)
def test_a_restart_keeps_the_deadline_and_every_acknowledged_answer(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "var", plugins_file=exams_plugins_file(tmp_path))
    upgrade(settings.effective_database_url, plugin_migration_dirs(load_plugin_manager(settings)))
    user_id = asyncio.run(_accounts(settings))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("INVIGILATOR_") or key == "INVIGILATOR_TEST_SERVICES"
    }
    env |= {
        "INVIGILATOR_DATA_DIR": str(settings.data_dir),
        "INVIGILATOR_PLUGINS_FILE": str(settings.plugins_file),
        "INVIGILATOR_RATE_LIMIT_PER_MINUTE": "0",
        "PYTHONPATH": str(ROOT),
    }
    with running_server(env, tmp_path) as base:
        _, candidate, attempt = asyncio.run(_first_life(base, user_id))
    with running_server(env, tmp_path) as base:  # SIGTERM, then a new process
        asyncio.run(_second_life(base, candidate, attempt))
