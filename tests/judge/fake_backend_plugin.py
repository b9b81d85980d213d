"""A judge backend for the glue tests, registered through ``invigilator_judge_backends``.

It runs Python programs for real (the interpreter running the tests, one process per test,
with the test's time limit) and compares output with the ``whitespace`` checker, so verdicts
are true verdicts; what it lacks is the sandbox, which the local backend's own tests cover.
Tests switch it off (``STATE.down``) to see retries, and hold runs at a gate (``STATE.gate``)
to line up concurrent workers or kill one mid-run.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.hookspecs import hookimpl
from core.services import Services
from plugins.judge.backend import (
    JudgeUnavailable,
    Language,
    RunRequest,
    RunResult,
    TestResult,
    Verdict,
)


@dataclass
class State:
    runs: list[RunRequest] = field(default_factory=list)
    down: bool = False
    gate: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def reset(self) -> None:
        self.runs.clear()
        self.down = False
        self.gate = None
        self.started = asyncio.Event()


STATE = State()


def _same(actual: str, expected: str) -> bool:
    return actual.split() == expected.split()


class FakeJudge:
    name = "fake"

    def languages(self) -> list[Language]:
        return [Language(name="python", label="Python 3", editor_mode="python")]

    async def run(self, request: RunRequest) -> RunResult:
        if STATE.down:
            raise JudgeUnavailable("the fake judge is switched off")
        STATE.runs.append(request)
        STATE.started.set()
        if STATE.gate is not None:
            await STATE.gate.wait()
        if request.language != "python":
            return RunResult(verdict=Verdict.COMPILE_ERROR, compile_output="unknown language")
        try:
            compile(request.source, "main.py", "exec")
        except SyntaxError as error:
            return RunResult(verdict=Verdict.COMPILE_ERROR, compile_output=str(error))
        results = [await self._one(request.source, test) for test in request.tests]
        bad = next((r.verdict for r in results if r.verdict is not Verdict.ACCEPTED), None)
        return RunResult(verdict=bad or Verdict.ACCEPTED, tests=results)

    async def _one(self, source: str, test: Any) -> TestResult:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-c",
            source,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            out, err = await asyncio.wait_for(
                process.communicate(test.input.encode()), test.time_limit_ms / 1000
            )
        except TimeoutError:
            process.kill()
            await process.wait()
            return TestResult(
                name=test.name, verdict=Verdict.TIME_LIMIT, hidden=test.hidden, weight=test.weight
            )
        except asyncio.CancelledError:  # the app stopped mid-run: leave no process behind
            process.kill()
            await asyncio.shield(process.wait())
            raise
        stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
        if process.returncode != 0:
            verdict = Verdict.RUNTIME_ERROR
        else:
            verdict = Verdict.ACCEPTED if _same(stdout, test.expected) else Verdict.WRONG_ANSWER
        return TestResult(
            name=test.name,
            verdict=verdict,
            time_ms=int((loop.time() - began) * 1000),
            memory_kb=9000,
            weight=test.weight,
            hidden=test.hidden,
            stdout=stdout[:4000],
            stderr=stderr[:4000],
        )

    async def close(self) -> None:
        return None


@hookimpl
def invigilator_judge_backends() -> Mapping[str, Any]:
    def build(services: Services) -> FakeJudge:
        return FakeJudge()

    return {"fake": build}
