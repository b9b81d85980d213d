"""Ordinary submissions in every language get the ordinary verdicts, through the real sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from plugins.judge.backend import JudgeUnavailable, RunRequest, TestSpec, Verdict
from plugins.judge.local import LocalJudge
from tests.judge.sandbox_kit import run_one, small_config


@pytest.fixture
async def judge() -> AsyncIterator[LocalJudge]:
    backend = LocalJudge(small_config())
    yield backend
    await backend.close()


SUM = {
    "python": "a, b = map(int, input().split())\nprint(a + b)\n",
    "c": '#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);'
    'printf("%ld\\n",a+b);return 0;}\n',
    "cpp": "#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<'\\n';}\n",
    "javascript": "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/)"
    ".map(Number);\nconsole.log(a + b);\n",
}
CRASH = {
    "python": "import sys\nprint('partial')\nsys.exit(3)\n",
    "c": '#include <stdio.h>\nint main(void){int *p=0; printf("%d", *p); return 0;}\n',
    "cpp": "#include <vector>\nint main(){std::vector<int> v; return v.at(5);}\n",
    "javascript": "throw new Error('boom');\n",
}
BROKEN = {
    "python": "def f(:\n    pass\n",
    "c": "int main(void) { return undefined_name; }\n",
    "cpp": "int main() { std::cout << 1; }\n",
    "javascript": "function (\n",
}


@pytest.mark.parametrize("language", sorted(SUM))
async def test_accepted_and_wrong_answer(judge: LocalJudge, language: str) -> None:
    tests = [
        TestSpec(name="one", input="2 3\n", expected="5\n", time_limit_ms=2000),
        TestSpec(name="two", input="10 -4", expected="7", time_limit_ms=2000, weight=3),
    ]
    result = await judge.run(RunRequest(language=language, source=SUM[language], tests=tests))
    assert [t.verdict for t in result.tests] == [Verdict.ACCEPTED, Verdict.WRONG_ANSWER]
    assert result.verdict is Verdict.WRONG_ANSWER
    assert result.share == pytest.approx(0.25)
    assert result.tests[1].stdout.strip() == "6"
    first = result.tests[0]
    assert first.time_ms is not None
    assert first.memory_kb is not None
    assert first.memory_kb > 0


@pytest.mark.parametrize("language", sorted(CRASH))
async def test_runtime_error_names_the_cause(judge: LocalJudge, language: str) -> None:
    result = await run_one(judge, language, CRASH[language], time_limit_ms=2000)
    assert result.verdict is Verdict.RUNTIME_ERROR, result
    message = result.tests[0].message
    expected = {
        "python": "exited with code 3",
        "c": "SIGSEGV",
        "cpp": "SIGABRT",
        "javascript": "exited with code 1",
    }[language]
    assert expected in message


@pytest.mark.parametrize("language", sorted(BROKEN))
async def test_compile_error_shows_the_compiler_output(judge: LocalJudge, language: str) -> None:
    result = await run_one(judge, language, BROKEN[language])
    assert result.verdict is Verdict.COMPILE_ERROR
    assert result.tests == []
    assert result.compile_output.strip()
    assert "main." in result.compile_output  # the message names the candidate's file


async def test_float_checker_through_the_judge(judge: LocalJudge) -> None:
    source = "print(1/3)\n"
    result = await run_one(judge, "python", source, expected="0.3333333", checker="float")
    assert result.verdict is Verdict.ACCEPTED
    result = await run_one(judge, "python", source, expected="0.3333333", checker="exact")
    assert result.verdict is Verdict.WRONG_ANSWER


async def test_unknown_language_is_a_compile_error(judge: LocalJudge) -> None:
    result = await run_one(judge, "cobol", "DISPLAY 'HI'.")
    assert result.verdict is Verdict.COMPILE_ERROR
    assert "cobol" in result.message


async def test_missing_bubblewrap_means_unavailable() -> None:
    judge = LocalJudge(small_config(bwrap_path="no-such-bwrap-binary"))
    assert judge.status()["bwrap"] == "missing"
    with pytest.raises(JudgeUnavailable):
        await run_one(judge, "python", "print(1)")


def test_languages_and_status(judge: LocalJudge) -> None:
    names = {language.name for language in judge.languages()}
    assert names == {"python", "c", "cpp", "javascript"}
    status = judge.status()
    assert status["seccomp"] == "on"  # libseccomp is installed wherever the suite runs
    assert status["bwrap"].endswith("bwrap")


async def test_concurrent_runs_share_the_slots(judge: LocalJudge) -> None:
    runs = [
        run_one(
            judge, language, SUM[language], stdin=f"{n} 1", expected=str(n + 1), time_limit_ms=2000
        )
        for n, language in enumerate(["python", "c", "python", "c", "python"])
    ]
    results = await asyncio.gather(*runs)
    assert [r.verdict for r in results] == [Verdict.ACCEPTED] * 5


async def test_self_check(judge: LocalJudge) -> None:
    assert await judge.check() is None
    broken = LocalJudge(small_config(bwrap_path="no-such-bwrap-binary"))
    assert "not installed" in (await broken.check() or "")


@pytest.mark.parametrize(
    "overrides",
    [
        {"monitor_python": "/usr/bin/no-such-python"},  # the monitor cannot start
        {"bwrap_path": "/bin/false"},  # bubblewrap "fails" before setting anything up
    ],
)
async def test_a_sandbox_that_cannot_start_is_unavailable_not_a_verdict(
    overrides: dict[str, str],
) -> None:
    broken = LocalJudge(small_config(**overrides))
    with pytest.raises(JudgeUnavailable, match="sandbox did not start"):
        await run_one(broken, "python", "print(1)")
    assert "does not start" in (await broken.check() or "")
