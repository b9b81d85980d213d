"""``[judge] backend = "local"`` (the default) reaches the real sandbox: the languages it
offers, and a sample run and a grading run through the API and the job queue."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import pytest

from core.services import Services
from storage.tables.user import User
from tests.exams.support import Client, headers, save, submit
from tests.judge.fake_backend_plugin import State
from tests.judge.support import PAYLOAD, RIGHT, WRONG_ON_HIDDEN, coding_attempt

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is missing")

C = (
    "#include <stdio.h>\n"
    'int main(void) { int a, b; scanf("%d %d", &a, &b); printf("%d\\n", a + b); return 0; }\n'
)


@pytest.fixture
def judge_config() -> str:
    return "retry_seconds = 600\n"  # everything else as shipped: backend = "local"


async def test_the_local_sandbox_is_the_default_backend(
    client: Client,
    services: Services,
    examiner: User,
    candidate: User,
    fake_judge: State,
) -> None:
    response = await client.get("/api/v1/judge/languages", headers=headers(candidate))
    body = await response.json()
    assert (body["backend"], body["available"]) == ("local", True)
    assert {"python", "c", "cpp", "javascript"} <= {lang["name"] for lang in body["languages"]}

    payload = {**PAYLOAD, "languages": ["python", "c"]}
    attempt = await coding_attempt(client, services, examiner, candidate, payload)
    url = f"/api/v1/judge/attempts/{attempt['id']}/items/0/runs"
    queued = await client.post(url, json={"language": "c", "code": C}, headers=headers(candidate))
    assert queued.status == 202, await queued.text()
    run: dict[str, Any] = {}
    for _ in range(300):
        got = await client.get(
            f"/api/v1/judge/runs/{(await queued.json())['id']}", headers=headers(candidate)
        )
        run = await got.json()
        if run["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.05)
    assert (run["status"], run["verdict"]) == ("done", "accepted"), (run["error"], run["results"])
    assert [t["stdout"] for t in run["results"]["tests"]] == ["3\n", "4\n"]

    answer = {"language": "python", "code": WRONG_ON_HIDDEN}
    assert (await save(client, candidate, attempt["id"], 0, answer, seq=1))[0] == 200
    await submit(client, candidate, attempt["id"])
    await services.jobs.result(f"exams.grade_attempt:{attempt['id']}", timeout=60)
    result = await client.get(f"/api/v1/attempts/{attempt['id']}/result", headers=headers(examiner))
    item = (await result.json())["items"][0]
    assert item["score"] == pytest.approx(1.5)  # both samples, not the hidden test (weight 2)
    assert fake_judge.runs == []  # the fake backend is registered but not chosen
    assert RIGHT != WRONG_ON_HIDDEN
