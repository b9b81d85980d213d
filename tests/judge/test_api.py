"""The judge API: run samples, poll results, refusals with codes, the examiner's view."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.services import Services
from plugins.judge import registry
from plugins.judge.config import JudgeConfig
from storage.tables.user import User
from tests.exams.support import Client, headers, save, submit
from tests.judge.fake_backend_plugin import State
from tests.judge.support import PAYLOAD, RIGHT, SECRET_OUTPUT, WRONG_ON_HIDDEN, coding_attempt


@pytest.fixture
async def attempt(
    client: Client, services: Services, examiner: User, candidate: User
) -> dict[str, Any]:
    return await coding_attempt(client, services, examiner, candidate, with_essay=True)


def runs_url(attempt: dict[str, Any], item: int = 0) -> str:
    return f"/api/v1/judge/attempts/{attempt['id']}/items/{item}/runs"


async def run(
    client: Client, user: User, attempt: dict[str, Any], body: dict[str, Any], item: int = 0
) -> tuple[int, dict[str, Any]]:
    response = await client.post(runs_url(attempt, item), json=body, headers=headers(user))
    return response.status, await response.json()


async def finished(client: Client, user: User, run_id: str) -> dict[str, Any]:
    for _ in range(200):
        response = await client.get(f"/api/v1/judge/runs/{run_id}", headers=headers(user))
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        if body["status"] in ("done", "failed"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("the run never finished")


async def test_run_samples_then_poll_the_results(
    client: Client, candidate: User, attempt: dict[str, Any]
) -> None:
    status, queued = await run(client, candidate, attempt, {"language": "python", "code": RIGHT})
    assert status == 202, queued
    assert (queued["status"], queued["kind"]) == ("queued", "sample_run")
    body = await finished(client, candidate, queued["id"])
    assert (body["verdict"], body["share"]) == ("accepted", 1.0)
    tests = body["results"]["tests"]
    assert [t["name"] for t in tests] == ["sample 1", "sample 2"]  # no hidden test runs here
    assert (tests[1]["input"], tests[1]["expected"], tests[1]["stdout"]) == ("2 2\n", "4\n", "4\n")
    assert tests[0]["time_ms"] is not None


async def test_a_wrong_program_shows_expected_beside_actual(
    client: Client, candidate: User, attempt: dict[str, Any]
) -> None:
    code = "print(0)\n"
    _, queued = await run(client, candidate, attempt, {"language": "python", "code": code})
    body = await finished(client, candidate, queued["id"])
    assert body["verdict"] == "wrong_answer"
    assert [(t["expected"], t["stdout"]) for t in body["results"]["tests"]] == [
        ("3\n", "0\n"),
        ("4\n", "0\n"),
    ]


async def test_languages(client: Client, candidate: User) -> None:
    response = await client.get("/api/v1/judge/languages", headers=headers(candidate))
    body = await response.json()
    assert body["backend"] == "fake"
    assert body["available"] is True
    assert [lang["name"] for lang in body["languages"]] == ["python"]


@pytest.mark.parametrize(
    ("body", "item", "status", "code"),
    [
        ({"language": "cobol", "code": "x"}, 0, 422, "language_not_offered"),
        ({"language": "python", "code": "x" * 70_000}, 0, 413, "code_too_large"),
        ({"language": "python", "code": "x"}, 1, 409, "not_a_coding_item"),
        ({"language": "python", "code": "x"}, 9, 404, "not_found"),
        ({"language": "python"}, 0, 422, "validation_error"),
    ],
)
async def test_bad_runs_are_refused_with_a_code(
    client: Client,
    candidate: User,
    attempt: dict[str, Any],
    body: dict[str, Any],
    item: int,
    status: int,
    code: str,
    fake_judge: State,
) -> None:
    got, answer = await run(client, candidate, attempt, body, item)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert fake_judge.runs == []


async def test_someone_elses_attempt_and_run_are_not_found(
    client: Client, candidates: list[User], attempt: dict[str, Any]
) -> None:
    owner, other = candidates[0], candidates[1]
    status, answer = await run(client, other, attempt, {"language": "python", "code": RIGHT})
    assert (status, answer["error"]["code"]) == (404, "not_found")
    _, queued = await run(client, owner, attempt, {"language": "python", "code": RIGHT})
    response = await client.get(f"/api/v1/judge/runs/{queued['id']}", headers=headers(other))
    assert response.status == 404


async def test_runs_are_limited_per_minute_and_while_pending(
    client: Client, candidate: User, attempt: dict[str, Any], fake_judge: State
) -> None:
    fake_judge.gate = asyncio.Event()  # runs wait: they pile up as pending
    body = {"language": "python", "code": RIGHT}
    assert (await run(client, candidate, attempt, body))[0] == 202
    assert (await run(client, candidate, attempt, body))[0] == 202
    status, answer = await run(client, candidate, attempt, body)
    assert (status, answer["error"]["code"]) == (429, "too_many_runs")
    fake_judge.gate.set()
    fake_judge.gate = None
    for _ in range(5):  # let them finish, then spend the minute's allowance
        await asyncio.sleep(0.1)
    statuses = []
    for _ in range(6):
        status, queued = await run(client, candidate, attempt, body)
        statuses.append(status)
        if status == 202:
            await finished(client, candidate, queued["id"])
    assert statuses == [202, 202, 202, 202, 429, 429]  # 6 a minute, 2 already used


async def test_a_closed_attempt_cannot_run(
    client: Client, candidate: User, attempt: dict[str, Any]
) -> None:
    await submit(client, candidate, attempt["id"])
    status, answer = await run(client, candidate, attempt, {"language": "python", "code": RIGHT})
    assert (status, answer["error"]["code"]) == (409, "attempt_closed")


async def test_an_unknown_backend_is_a_503(
    client: Client, candidate: User, attempt: dict[str, Any], services: Services
) -> None:
    config = services.section("judge", JudgeConfig)
    services.sections["judge"] = config.model_copy(update={"backend": "nowhere"})
    await registry.close(services)
    status, answer = await run(client, candidate, attempt, {"language": "python", "code": RIGHT})
    assert (status, answer["error"]["code"]) == (503, "judge_unavailable")
    response = await client.get("/api/v1/judge/languages", headers=headers(candidate))
    assert (await response.json())["available"] is False


async def test_the_examiner_sees_every_run_with_hidden_tests_marked(
    client: Client,
    services: Services,
    examiner: User,
    candidate: User,
    attempt: dict[str, Any],
) -> None:
    _, queued = await run(client, candidate, attempt, {"language": "python", "code": RIGHT})
    await finished(client, candidate, queued["id"])
    code = {"language": "python", "code": WRONG_ON_HIDDEN}
    assert (await save(client, candidate, attempt["id"], 0, code, seq=1))[0] == 200
    await submit(client, candidate, attempt["id"])
    await services.jobs.result(f"exams.grade_attempt:{attempt['id']}")

    url = f"/api/v1/judge/attempts/{attempt['id']}/submissions"
    assert (await client.get(url, headers=headers(candidate))).status == 403
    response = await client.get(url, headers=headers(examiner))
    items = (await response.json())["items"]
    assert [(i["kind"], i["verdict"]) for i in items] == [
        ("sample_run", "accepted"),
        ("final", "wrong_answer"),
    ]
    hidden = items[1]["results"]["tests"][2]
    assert (hidden["hidden"], hidden["expected"], hidden["stdout"]) == (True, SECRET_OUTPUT, "0\n")
    assert items[1]["code"] == WRONG_ON_HIDDEN
    assert items[1]["share"] == pytest.approx(0.5)
    # The candidate may read their graded run too, hidden tests reduced to verdict and time.
    mine = await client.get(f"/api/v1/judge/runs/{items[1]['id']}", headers=headers(candidate))
    shown = (await mine.json())["results"]["tests"][2]
    assert set(shown) == {"name", "verdict", "time_ms", "memory_kb", "weight", "hidden"}
    page = await client.get(f"/admin/judge/attempts/{attempt['id']}", headers=headers(examiner))
    assert page.status == 200
    assert PAYLOAD["languages"] == ["python"]  # the fake backend's one language
