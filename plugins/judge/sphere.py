"""The Sphere Engine Problems backend: the question becomes a problem on the account.

Sphere Engine is problem-centric: test cases live on its side and a submission names a
problem. So a run first makes sure a problem with exactly this question's tests exists, then
submits and polls. The problem is found by a fingerprint (a hash of every test's input,
expected output and time limit, the comparison and the judges): its code is
``<prefix><fingerprint>``, so a restarted server, or another worker, finds the problem it made
before (``GET /problems/{code}``) instead of making a new one; the id is also cached in memory.
Test cases are added in order, so test ``i`` is Sphere Engine's test case number ``i``; a
problem left half-made by a crash is completed on the next run.

What differs from the other backends, by Sphere Engine's design: the expected outputs of every
test, hidden ones included, are stored on the account (that is how it judges); the comparison
is Sphere Engine's test-case judge (ignores extra white space; floats within its judge's
tolerance; exact only with a judge configured for it); memory limits are the account's, not
the question's; and no per-test output is returned, so test results carry verdict, time and
memory only (the compiler output is fetched on a compile error).

Status mapping (``result.status.code`` of each test case → verdict): 15 accepted, 14 wrong
answer, 13 time limit, 17 memory limit, 12 runtime error, 19 runtime error (illegal system
call), 11 compile error, 20 and anything else internal error.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import aiohttp

from plugins.judge.backend import (
    JudgeUnavailable,
    Language,
    RunRequest,
    RunResult,
    TestSpec,
)
from plugins.judge.http_retry import JudgeSetupError, Reply, RetryPolicy, call, error_text
from plugins.judge.judge0_config import RemoteLanguage
from plugins.judge.remote_results import summarise
from plugins.judge.sphere_config import SphereConfig
from plugins.judge.sphere_results import case_result

__all__ = ["SphereConfig", "SphereJudge"]


class SphereJudge:
    """A :class:`~plugins.judge.backend.JudgeBackend` on a Sphere Engine Problems account."""

    name = "sphere"

    def __init__(self, config: SphereConfig) -> None:
        self._config = config
        self._policy = RetryPolicy(
            retries=config.retries, backoff_seconds=config.retry_backoff_seconds
        )
        self._session: aiohttp.ClientSession | None = None
        self._problems: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def languages(self) -> list[Language]:
        return [
            Language(name=name, label=lang.label, editor_mode=lang.editor_mode)
            for name, lang in self._config.compilers.items()
        ]

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def run(self, request: RunRequest) -> RunResult:
        compiler = self._compiler(request.language)
        judge_id, note = self._judge(request)
        problem = await self._problem(request, judge_id)
        reply = await self._submit(problem, compiler, request.source)
        if reply.status == 404:  # the cached problem was deleted on the account: make it again
            self._problems = {k: v for k, v in self._problems.items() if v != problem}
            problem = await self._problem(request, judge_id)
            reply = await self._submit(problem, compiler, request.source)
        if reply.status != 201 or not isinstance(reply.body, dict) or "id" not in reply.body:
            raise self._error("create a submission", reply, compiler=compiler)
        submission = await self._wait(int(reply.body["id"]))
        return await self._result(request, submission, note)

    # -- choosing --------------------------------------------------------------------------

    def _compiler(self, name: str) -> RemoteLanguage:
        compiler = self._config.compilers.get(name)
        if compiler is None:
            offered = ", ".join(sorted(self._config.compilers)) or "none"
            raise JudgeSetupError(
                f"the sphere backend has no language {name!r} (offered: {offered}); "
                "add it under [judge.sphere.compilers]"
            )
        return compiler

    def _judge(self, request: RunRequest) -> tuple[int, str]:
        cfg = self._config
        if request.checker == "float" and cfg.float_judge_id is not None:
            if abs(request.float_tolerance - cfg.float_judge_tolerance) > 1e-12:
                return cfg.float_judge_id, (
                    f"floats compared within Sphere Engine's {cfg.float_judge_tolerance:g}, "
                    f"not {request.float_tolerance:g}"
                )
            return cfg.float_judge_id, ""
        if request.checker == "exact" and cfg.exact_judge_id is not None:
            return cfg.exact_judge_id, ""
        if request.checker == "whitespace":
            return cfg.whitespace_judge_id, ""
        return cfg.whitespace_judge_id, (
            f"{request.checker} comparison is not set up for Sphere Engine; "
            "compared ignoring extra white space"
        )

    def _fingerprint(self, request: RunRequest, judge_id: int) -> str:
        cfg = self._config
        shape = {
            "tests": [[t.input, t.expected, t.time_limit_ms] for t in request.tests],
            "judge": judge_id,
            "master": cfg.masterjudge_id,
        }
        raw = json.dumps(shape, separators=(",", ":"), ensure_ascii=False).encode()
        return hashlib.sha256(raw).hexdigest()[:24].upper()

    # -- the problem -----------------------------------------------------------------------

    async def _problem(self, request: RunRequest, judge_id: int) -> int:
        code = self._config.problem_code_prefix + self._fingerprint(request, judge_id)
        if code in self._problems:
            return self._problems[code]
        async with self._locks.setdefault(code, asyncio.Lock()):
            if code not in self._problems:
                self._problems[code] = await self._ensure_problem(code, request, judge_id)
        return self._problems[code]

    async def _ensure_problem(self, code: str, request: RunRequest, judge_id: int) -> int:
        problem, have = await self._find_problem(code)
        if problem is None:
            form = {
                "name": f"Invigilator {code}",
                "code": code,
                "masterjudgeId": str(self._config.masterjudge_id),
                "typeId": "0",
                "interactive": "0",
                "body": "Made by Invigilator for one coding question; do not edit.",
            }
            made = await self._call("POST", "/problems", form=form)
            if made.status == 201 and isinstance(made.body, dict):
                problem, have = int(made.body["id"]), 0
            else:  # a create retried after a lost answer lands as "code already used"
                problem, have = await self._find_problem(code)
                if problem is None:
                    raise self._error("create a problem", made)
        wanted = len(request.tests)
        for test in request.tests[have:]:
            await self._add_test(problem, test, judge_id)
        if have != wanted:
            _, have = await self._find_problem(code)
        if have != wanted:
            # A test case added twice (a retried request) would shift every later number:
            # drop the problem so the next try builds it again, rather than judge wrongly.
            await self._call("DELETE", f"/problems/{problem}")
            raise JudgeUnavailable(
                f"Sphere Engine problem {code} had {have} test cases instead of {wanted}; "
                "it was deleted and will be made again"
            )
        return problem

    async def _find_problem(self, code: str) -> tuple[int | None, int]:
        """The id of the problem with this code and how many test cases it has."""
        found = await self._call("GET", f"/problems/{code}")
        if found.status == 404:
            return None, 0
        if found.status != 200 or not isinstance(found.body, dict):
            raise self._error("look up a problem", found)
        problem = int(found.body["id"])
        listed = await self._call("GET", f"/problems/{problem}/testcases")
        if listed.status != 200 or not isinstance(listed.body, dict):
            raise self._error("list test cases", listed)
        return problem, len(listed.body.get("items") or [])

    async def _add_test(self, problem: int, test: TestSpec, judge_id: int) -> None:
        form = {
            "input": test.input,
            "output": test.expected,
            "timeLimit": f"{test.time_limit_ms / 1000:g}",
            "judgeId": str(judge_id),
            "active": "1",
        }
        reply = await self._call("POST", f"/problems/{problem}/testcases", form=form)
        if reply.status != 201:
            raise self._error("add a test case", reply)

    # -- the submission --------------------------------------------------------------------

    async def _submit(self, problem: int, compiler: RemoteLanguage, source: str) -> Reply:
        form = {"problemId": str(problem), "compilerId": str(compiler.id), "source": source}
        return await self._call("POST", "/submissions", form=form)

    async def _wait(self, submission: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.timeout_seconds
        interval = self._config.poll_interval_seconds
        while True:
            if loop.time() + interval > deadline:
                raise JudgeUnavailable(
                    f"Sphere Engine did not finish submission {submission} within "
                    f"{self._config.timeout_seconds:g} s"
                )
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, self._config.max_poll_interval_seconds)
            reply = await self._call("GET", f"/submissions/{submission}")
            if reply.status != 200 or not isinstance(reply.body, dict):
                raise self._error("read a submission", reply)
            if not reply.body.get("executing", True):
                return reply.body

    async def _result(self, request: RunRequest, sub: dict[str, Any], note: str) -> RunResult:
        result = sub.get("result") or {}
        overall = int((result.get("status") or {}).get("code", 20))
        by_number = {int(t.get("number", -1)): t for t in result.get("testcases") or []}
        tests = [
            case_result(i, test, by_number.get(i), overall) for i, test in enumerate(request.tests)
        ]
        compile_output = ""
        if overall == 11:
            stream = await self._call("GET", f"/submissions/{sub['id']}/cmpinfo")
            compile_output = stream.text if stream.status == 200 else ""
        return summarise(tests, compile_output=compile_output, note=note)

    # -- HTTP --------------------------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            cfg = self._config
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=cfg.request_timeout_seconds),
                connector=aiohttp.TCPConnector(ssl=cfg.verify_tls),
            )
        return self._session

    async def _call(self, method: str, path: str, *, form: dict[str, str] | None = None) -> Reply:
        # The access token travels as a query parameter: that is Sphere Engine's API.
        params = {"access_token": self._config.access_token.get_secret_value()}
        return await call(
            self._client(),
            method,
            self._config.endpoint + path,
            service="Sphere Engine",
            policy=self._policy,
            params=params,
            form=form,
        )

    def _error(
        self, doing: str, reply: Reply, *, compiler: RemoteLanguage | None = None
    ) -> JudgeUnavailable:
        why = error_text(reply.body)
        if reply.status in (400, 404, 422):
            hint = ""
            if compiler is not None and "compiler" in why.lower():
                hint = f" (compiler id {compiler.id}: fix [judge.sphere.compilers])"
            return JudgeSetupError(f"Sphere Engine refused to {doing}: {why}{hint}")
        return JudgeUnavailable(f"Sphere Engine could not {doing} ({reply.status}): {why}")
