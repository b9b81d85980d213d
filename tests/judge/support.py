"""Helpers for the judge tests: a coding exam, an attempt on it, submission rows."""

from __future__ import annotations

import uuid
from typing import Any

from core.services import Services
from plugins.exams.tables import Attempt
from plugins.judge.service import code_hash
from plugins.judge.tables import FINAL, FINAL_SLOT, SAMPLE_RUN, JudgeSubmission
from storage.tables.user import User
from tests.exams.support import Client, add_question, create_exam, fixed, start

SECRET_INPUT = "7 8\n"
SECRET_OUTPUT = "15"
PAYLOAD: dict[str, Any] = {
    "type": "coding",
    "languages": ["python"],
    "starter_code": {"python": "a, b = map(int, input().split())\n"},
    "samples": [{"input": "1 2\n", "output": "3\n"}, {"input": "2 2\n", "output": "4\n"}],
    "hidden": [{"input": SECRET_INPUT, "output": SECRET_OUTPUT, "weight": 2}],
    "time_limit_ms": 2000,
    "memory_limit_mb": 64,
    "checker": "whitespace",
}
RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"
WRONG_ON_HIDDEN = "a, b = map(int, input().split())\nprint(a + b if a < 5 else 0)\n"


async def coding_attempt(
    client: Client,
    services: Services,
    examiner: User,
    candidate: User,
    payload: dict[str, Any] | None = None,
    *,
    with_essay: bool = False,
) -> dict[str, Any]:
    """A published exam of one coding question (item 0; an essay after it on request),
    started by ``candidate``; returns the attempt."""
    program = await add_question(
        services, "coding", payload=payload or PAYLOAD, points=3, title="Add two numbers"
    )
    ids = [program]
    if with_essay:
        ids.append(await add_question(services, "essay"))
    exam = await create_exam(client, examiner, sections=[fixed(*ids)], candidates=[candidate])
    return await start(client, candidate, exam["id"])


async def add_row(
    services: Services,
    attempt: dict[str, Any],
    *,
    code: str = RIGHT,
    kind: str = SAMPLE_RUN,
    item: int = 0,
) -> JudgeSubmission:
    """A queued submission row, as the API or the grading hook creates one."""
    run_id = uuid.uuid4().hex
    async with services.db.session() as db:
        stored = await db.get(Attempt, attempt["id"])
        assert stored is not None
        version_id = stored.paper[item]["version_id"]
        row = JudgeSubmission(
            id=run_id,
            attempt_id=attempt["id"],
            item=item,
            kind=kind,
            slot=FINAL_SLOT if kind == FINAL else run_id,
            user_id=None,
            version_id=version_id,
            language="python",
            code_sha256=code_hash("python", code),
            code=code,
        )
        db.add(row)
        await db.commit()
        await db.refresh(row)
    return row
