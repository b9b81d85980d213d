"""The Sphere Engine backend against a real HTTP server speaking the Problems v4 API."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from plugins.judge.backend import JudgeUnavailable, RunRequest, TestSpec, Verdict
from plugins.judge.http_retry import JudgeAuthError, JudgeSetupError
from plugins.judge.sphere import SphereConfig, SphereJudge
from tests.fakes.sphere_server import FakeSphere

ADD = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.fixture
async def server() -> AsyncIterator[FakeSphere]:
    fake = await FakeSphere(access_token="tok").start()
    yield fake
    await fake.stop()


def config(endpoint: str, **overrides: Any) -> SphereConfig:
    values: dict[str, Any] = {
        "endpoint": endpoint,
        "access_token": "tok",
        "poll_interval_seconds": 0.05,
        "max_poll_interval_seconds": 0.2,
        "retry_backoff_seconds": 0.05,
        "timeout_seconds": 60,
        "retries": 3,
    }
    return SphereConfig.model_validate(values | overrides)


async def judge(endpoint: str, request: RunRequest, **overrides: Any) -> Any:
    backend = SphereJudge(config(endpoint, **overrides))
    try:
        return await backend.run(request)
    finally:
        await backend.close()


def specs(*cases: tuple[str, str], hidden_from: int = 1, **limits: Any) -> list[TestSpec]:
    return [
        TestSpec(
            name=f"{'hidden' if i >= hidden_from else 'sample'} {i + 1}",
            input=given,
            expected=wanted,
            hidden=i >= hidden_from,
            **limits,
        )
        for i, (given, wanted) in enumerate(cases)
    ]


async def test_accepted_and_the_problem_is_reused(server: FakeSphere) -> None:
    request = RunRequest(language="python", source=ADD, tests=specs(("1 2", "3"), ("5 6", "11")))
    backend = SphereJudge(config(server.endpoint))
    try:
        first = await backend.run(request)
        second = await backend.run(request.model_copy(update={"source": ADD + "# again\n"}))
    finally:
        await backend.close()
    assert first.verdict is second.verdict is Verdict.ACCEPTED
    assert first.share == 1.0
    assert len(server.problems) == 1
    assert len(server.submissions) == 2
    (problem,) = server.problems.values()
    assert [t["output"] for t in problem.testcases] == ["3", "11"]
    assert problem.code.startswith("INV")
    hidden = first.tests[1]
    assert hidden.hidden
    assert (hidden.stdout, hidden.stderr) == ("", "")
    assert hidden.time_ms is not None
    assert hidden.memory_kb


async def test_a_new_process_finds_the_problem_by_code(server: FakeSphere) -> None:
    request = RunRequest(language="python", source=ADD, tests=specs(("1 2", "3"), ("2 2", "4")))
    assert (await judge(server.endpoint, request)).verdict is Verdict.ACCEPTED
    (problem,) = server.problems.values()
    problem.testcases.pop()  # as if the first process died before adding the last test case
    assert (await judge(server.endpoint, request)).verdict is Verdict.ACCEPTED
    assert len(server.problems) == 1
    assert len(problem.testcases) == 2


async def test_different_tests_make_a_different_problem(server: FakeSphere) -> None:
    one = RunRequest(language="python", source=ADD, tests=specs(("1 2", "3")))
    two = RunRequest(language="python", source=ADD, tests=specs(("1 3", "4")))
    await judge(server.endpoint, one)
    await judge(server.endpoint, two)
    assert len(server.problems) == 2


async def test_wrong_answer_per_test(server: FakeSphere) -> None:
    source = "print(int(input()) * 2)\n"
    request = RunRequest(language="python", source=source, tests=specs(("2", "4"), ("3", "7")))
    result = await judge(server.endpoint, request)
    assert [t.verdict for t in result.tests] == [Verdict.ACCEPTED, Verdict.WRONG_ANSWER]
    assert result.verdict is Verdict.WRONG_ANSWER
    assert result.share == 0.5


async def test_compile_error_fetches_cmpinfo(server: FakeSphere) -> None:
    request = RunRequest(language="python", source="def broken(:\n", tests=specs(("", "")))
    result = await judge(server.endpoint, request)
    assert result.verdict is Verdict.COMPILE_ERROR
    assert "SyntaxError" in result.compile_output
    assert result.tests[0].verdict is Verdict.COMPILE_ERROR


async def test_runtime_error(server: FakeSphere) -> None:
    request = RunRequest(language="python", source="print(1 // 0)\n", tests=specs(("", "1")))
    result = await judge(server.endpoint, request)
    assert result.verdict is Verdict.RUNTIME_ERROR


async def test_time_limit(server: FakeSphere) -> None:
    request = RunRequest(
        language="python",
        source="while True:\n    pass\n",
        tests=specs(("", ""), time_limit_ms=1000),
    )
    result = await judge(server.endpoint, request)
    assert result.verdict is Verdict.TIME_LIMIT
    assert result.tests[0].message == "killed after 1 s"


async def test_memory_limit(server: FakeSphere) -> None:
    server.memory_limit_kb = 64 * 1024
    source = "block = bytearray(300 * 1024 * 1024)\n"
    result = await judge(
        server.endpoint, RunRequest(language="python", source=source, tests=specs(("", "")))
    )
    assert result.verdict is Verdict.MEMORY_LIMIT


async def test_float_checker_uses_the_float_judge(server: FakeSphere) -> None:
    request = RunRequest(
        language="python",
        source="print(0.334)\n",
        tests=specs(("", "0.333")),
        checker="float",
        float_tolerance=0.01,
    )
    result = await judge(server.endpoint, request)
    assert result.verdict is Verdict.ACCEPTED
    assert result.message == "1 of 1 tests passed"
    (problem,) = server.problems.values()
    assert problem.testcases[0]["judgeId"] == 2


async def test_exact_without_an_exact_judge_says_so(server: FakeSphere) -> None:
    request = RunRequest(
        language="python", source="print(' 3 ')\n", tests=specs(("", "3")), checker="exact"
    )
    result = await judge(server.endpoint, request)
    assert result.verdict is Verdict.ACCEPTED
    assert "compared ignoring extra white space" in result.message
    exact = await judge(server.endpoint, request, exact_judge_id=3)
    assert exact.verdict is Verdict.WRONG_ANSWER


async def test_503_is_retried(server: FakeSphere) -> None:
    server.fail_next = [503, 502]
    request = RunRequest(language="python", source=ADD, tests=specs(("1 1", "2")))
    assert (await judge(server.endpoint, request)).verdict is Verdict.ACCEPTED
    assert server.fail_next == []


async def test_bad_token(server: FakeSphere) -> None:
    request = RunRequest(language="python", source=ADD, tests=specs(("1 1", "2")))
    with pytest.raises(JudgeAuthError, match="Unauthorized access"):
        await judge(server.endpoint, request, access_token="nope")
    assert server.requests == 1


async def test_compiler_the_account_lacks(server: FakeSphere) -> None:
    request = RunRequest(language="python", source=ADD, tests=specs(("1 1", "2")))
    compilers = {"python": {"id": 999, "label": "Python"}}
    with pytest.raises(JudgeSetupError, match="compiler id 999"):
        await judge(server.endpoint, request, compilers=compilers)


async def test_language_not_configured(server: FakeSphere) -> None:
    request = RunRequest(language="cobol", source="x", tests=specs(("", "")))
    with pytest.raises(JudgeSetupError, match="no language 'cobol'"):
        await judge(server.endpoint, request)


async def test_server_down() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = RunRequest(language="python", source=ADD, tests=specs(("1 1", "2")))
    with pytest.raises(JudgeUnavailable, match="could not be reached"):
        await judge(f"http://127.0.0.1:{port}/api/v4", request, retries=1)


async def test_results_that_never_come_time_out() -> None:
    fake = await FakeSphere(polls_before_done=10_000).start()
    try:
        request = RunRequest(language="python", source=ADD, tests=specs(("1 1", "2")))
        with pytest.raises(JudgeUnavailable, match="did not finish"):
            await judge(fake.endpoint, request, timeout_seconds=0.5)
    finally:
        await fake.stop()


def test_config() -> None:
    names = {lang.name for lang in SphereJudge(config("https://x.example/api/v4")).languages()}
    assert {"python", "c", "cpp", "javascript"} <= names
    with pytest.raises(ValueError, match="access_token"):
        SphereConfig.model_validate({"endpoint": "https://x.example/api/v4"})


async def test_concurrent_runs_of_one_question_make_one_problem(server: FakeSphere) -> None:
    request = RunRequest(language="python", source=ADD, tests=specs(("1 2", "3"), ("2 2", "4")))
    backend = SphereJudge(config(server.endpoint))
    try:
        results = await asyncio.gather(*(backend.run(request) for _ in range(3)))
    finally:
        await backend.close()
    assert [r.verdict for r in results] == [Verdict.ACCEPTED] * 3
    assert len(server.problems) == 1
    (problem,) = server.problems.values()
    assert len(problem.testcases) == 2


async def test_a_problem_deleted_on_the_account_is_made_again(server: FakeSphere) -> None:
    request = RunRequest(language="python", source=ADD, tests=specs(("1 2", "3")))
    backend = SphereJudge(config(server.endpoint))
    try:
        assert (await backend.run(request)).verdict is Verdict.ACCEPTED
        server.problems.clear()  # an operator cleaned the account up
        assert (await backend.run(request)).verdict is Verdict.ACCEPTED
    finally:
        await backend.close()
    assert len(server.problems) == 1


def test_every_setting_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "judge.md").read_text()
    section = docs.split("## Sphere Engine", 1)[1].split("\n## ", 1)[0]
    for name in SphereConfig.model_fields:
        assert f"| `{name}` |" in section, name


async def test_a_problem_with_a_duplicated_test_case_is_rebuilt(server: FakeSphere) -> None:
    request = RunRequest(language="python", source=ADD, tests=specs(("1 2", "3"), ("2 2", "4")))
    backend = SphereJudge(config(server.endpoint))
    try:
        await backend.run(request)
        (problem,) = server.problems.values()
        problem.testcases.insert(1, dict(problem.testcases[0], number=1))  # a retried add
        fresh = SphereJudge(config(server.endpoint))  # another process: no cache
        with pytest.raises(JudgeUnavailable, match="had 3 test cases instead of 2"):
            await fresh.run(request)
        assert server.problems == {}
        assert (await fresh.run(request)).verdict is Verdict.ACCEPTED
        await fresh.close()
    finally:
        await backend.close()
    (rebuilt,) = server.problems.values()
    assert [t["output"] for t in rebuilt.testcases] == ["3", "4"]
