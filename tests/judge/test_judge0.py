"""The Judge0 backend against a real HTTP server speaking Judge0's API and running the code."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from plugins.judge.backend import JudgeUnavailable, RunRequest, TestSpec, Verdict
from plugins.judge.http_retry import JudgeAuthError, JudgeSetupError
from plugins.judge.judge0 import Judge0Config, Judge0Judge
from tests.fakes.judge0_server import FakeJudge0

ADD = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.fixture
async def server() -> AsyncIterator[FakeJudge0]:
    fake = await FakeJudge0(auth_token="s3cret").start()
    yield fake
    await fake.stop()


def config(url: str, **overrides: Any) -> Judge0Config:
    values: dict[str, Any] = {
        "url": url,
        "auth_token": "s3cret",
        "poll_interval_seconds": 0.05,
        "max_poll_interval_seconds": 0.2,
        "retry_backoff_seconds": 0.05,
        "timeout_seconds": 60,
        "retries": 3,
    }
    return Judge0Config.model_validate(values | overrides)


async def judge(url: str, request: RunRequest, **overrides: Any) -> Any:
    backend = Judge0Judge(config(url, **overrides))
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


async def test_accepted_with_hidden_output_kept_back(server: FakeJudge0) -> None:
    request = RunRequest(language="python", source=ADD, tests=specs(("1 2", "3"), ("5 6", "11")))
    result = await judge(server.url, request)
    assert result.verdict is Verdict.ACCEPTED
    assert result.share == 1.0
    sample, hidden = result.tests
    assert sample.stdout == "3\n"
    assert (hidden.stdout, hidden.stderr, hidden.hidden) == ("", "", True)
    assert sample.time_ms is not None
    assert sample.memory_kb
    assert all("expected_output" not in s.received for s in server.submissions.values())


async def test_wrong_answer_is_decided_by_our_checker(server: FakeJudge0) -> None:
    source = "print(int(input()) * 2)\n"
    request = RunRequest(language="python", source=source, tests=specs(("2", "4"), ("3", "7")))
    result = await judge(server.url, request)
    assert [t.verdict for t in result.tests] == [Verdict.ACCEPTED, Verdict.WRONG_ANSWER]
    assert result.verdict is Verdict.WRONG_ANSWER
    assert result.tests[1].stdout == ""  # hidden: the candidate never sees its output
    assert result.share == 0.5


async def test_nothing_of_a_hidden_test_leaks_into_the_result(server: FakeJudge0) -> None:
    source = "import sys\nprint('candidate-output')\nprint('candidate-error', file=sys.stderr)\n"
    request = RunRequest(
        language="python", source=source, tests=specs(("", "secret-answer"), hidden_from=0)
    )
    result = await judge(server.url, request)
    assert result.verdict is Verdict.WRONG_ANSWER
    dumped = result.model_dump_json()
    for secret in ("secret-answer", "candidate-output", "candidate-error"):
        assert secret not in dumped


async def test_float_tolerance_uses_the_shared_checker(server: FakeJudge0) -> None:
    # Judge0's own comparison would call this wrong: "1.0000001" != "1.0".
    request = RunRequest(
        language="python",
        source="print('1.0000001')\n",
        tests=specs(("", "1.0")),
        checker="float",
        float_tolerance=1e-4,
    )
    assert (await judge(server.url, request)).verdict is Verdict.ACCEPTED


async def test_compile_error_carries_the_compiler_output(server: FakeJudge0) -> None:
    request = RunRequest(
        language="c", source="int main(void) { return 0 }\n", tests=specs(("", ""))
    )
    result = await judge(server.url, request, languages={"c": {"id": 50, "label": "C"}})
    assert result.verdict is Verdict.COMPILE_ERROR
    assert "error" in result.compile_output
    assert result.tests[0].verdict is Verdict.COMPILE_ERROR


async def test_runtime_error_shows_stderr_only_for_visible_tests(server: FakeJudge0) -> None:
    source = "x = int(input())\nprint(10 // x)\n"
    request = RunRequest(language="python", source=source, tests=specs(("0", "1"), ("0", "1")))
    result = await judge(server.url, request)
    sample, hidden = result.tests
    assert result.verdict is Verdict.RUNTIME_ERROR
    assert sample.verdict is hidden.verdict is Verdict.RUNTIME_ERROR
    assert "ZeroDivisionError" in sample.stderr
    assert hidden.stderr == ""
    assert hidden.stdout == ""
    assert "NZEC" in sample.message


async def test_time_limit(server: FakeJudge0) -> None:
    request = RunRequest(
        language="python",
        source="while True:\n    pass\n",
        tests=specs(("", ""), time_limit_ms=1000),
    )
    result = await judge(server.url, request)
    assert result.verdict is Verdict.TIME_LIMIT
    assert "1 s" in result.tests[0].message


async def test_memory_exhaustion_maps_to_memory_limit(server: FakeJudge0) -> None:
    # Judge0 reports a runtime error (the allocation fails under its address-space limit);
    # the backend reads the out-of-memory message and answers memory_limit.
    source = "block = bytearray(300 * 1024 * 1024)\nprint(len(block))\n"
    request = RunRequest(
        language="python", source=source, tests=specs(("", ""), memory_limit_mb=64)
    )
    result = await judge(server.url, request)
    assert result.verdict is Verdict.MEMORY_LIMIT
    assert "64 MB" in result.tests[0].message


async def test_non_utf8_output_survives_base64(server: FakeJudge0) -> None:
    source = "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe\\n')\n"
    request = RunRequest(language="python", source=source, tests=specs(("", "ok")))
    result = await judge(server.url, request)
    assert result.verdict is Verdict.WRONG_ANSWER
    assert result.tests[0].stdout.startswith("ok \ufffd")


async def test_more_tests_than_a_batch_are_split() -> None:
    fake = await FakeJudge0(max_batch=3).start()
    try:
        cases = [(f"{i} {i}", str(2 * i)) for i in range(7)]
        request = RunRequest(language="python", source=ADD, tests=specs(*cases))
        result = await judge(fake.url, request, batch_size=3, auth_token=None)
    finally:
        await fake.stop()
    assert result.verdict is Verdict.ACCEPTED
    assert [t.name for t in result.tests] == [
        f"{'sample' if i == 0 else 'hidden'} {i + 1}" for i in range(7)
    ]
    assert fake.batch_sizes == [3, 3, 1]


async def test_503_is_retried(server: FakeJudge0) -> None:
    server.fail_next = [503, 429]
    request = RunRequest(language="python", source=ADD, tests=specs(("1 1", "2")))
    assert (await judge(server.url, request)).verdict is Verdict.ACCEPTED
    assert server.fail_next == []


async def test_persistent_503_is_unavailable(server: FakeJudge0) -> None:
    server.fail_next = [503] * 10
    request = RunRequest(language="python", source=ADD, tests=specs(("1 1", "2")))
    with pytest.raises(JudgeUnavailable, match="503"):
        await judge(server.url, request, retries=2)


async def test_bad_token_is_a_clear_unavailable(server: FakeJudge0) -> None:
    request = RunRequest(language="python", source=ADD, tests=specs(("1 1", "2")))
    with pytest.raises(JudgeAuthError, match=r"refused the credentials \(401\)"):
        await judge(server.url, request, auth_token="wrong")
    assert server.requests == 1  # never retried
    assert issubclass(JudgeAuthError, JudgeUnavailable)


async def test_language_judge0_does_not_know(server: FakeJudge0) -> None:
    request = RunRequest(language="python", source=ADD, tests=specs(("1 1", "2")))
    langs = {"python": {"id": 999, "label": "Python"}}
    with pytest.raises(JudgeSetupError, match="no language id 999"):
        await judge(server.url, request, languages=langs)


async def test_language_not_configured(server: FakeJudge0) -> None:
    request = RunRequest(language="cobol", source="x", tests=specs(("", "")))
    with pytest.raises(JudgeSetupError, match="no language 'cobol'"):
        await judge(server.url, request)
    assert server.requests == 0


async def test_server_down_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = RunRequest(language="python", source=ADD, tests=specs(("1 1", "2")))
    with pytest.raises(JudgeUnavailable, match="could not be reached"):
        await judge(f"http://127.0.0.1:{port}", request, retries=1)


async def test_results_that_never_come_time_out() -> None:
    fake = await FakeJudge0(polls_before_done=10_000).start()
    try:
        request = RunRequest(language="python", source=ADD, tests=specs(("1 1", "2")))
        with pytest.raises(JudgeUnavailable, match="did not finish 1 of 1 tests"):
            await judge(fake.url, request, timeout_seconds=0.5, auth_token=None)
    finally:
        await fake.stop()


def test_languages_and_config_validation() -> None:
    backend = Judge0Judge(Judge0Config())
    names = {lang.name: lang for lang in backend.languages()}
    assert names["python"].label.startswith("Python")
    assert "cpp" in names
    with pytest.raises(ValueError, match="http"):
        Judge0Config(url="judge0.example.org")
    with pytest.raises(ValueError, match="extra"):
        Judge0Config.model_validate({"urll": "http://x"})


async def test_a_batch_larger_than_the_server_allows_is_a_setup_error(server: FakeJudge0) -> None:
    cases = [(f"{i} 0", str(i)) for i in range(21)]
    request = RunRequest(language="python", source=ADD, tests=specs(*cases))
    with pytest.raises(JudgeSetupError, match=r"lower \[judge\.judge0\] batch_size"):
        await judge(server.url, request, batch_size=21)
    assert server.submissions == {}


def test_every_setting_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "judge.md").read_text()
    section = docs.split("## Judge0", 1)[1].split("\n## ", 1)[0]
    for name in Judge0Config.model_fields:
        assert f"| `{name}` |" in section, name
