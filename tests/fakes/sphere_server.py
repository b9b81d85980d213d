"""A Sphere Engine Problems (API v4) server on loopback that really judges the submissions.

Problems with test cases, ``access_token`` checked on every call (401 with ``{"message",
"error_code"}``), form or JSON bodies, asynchronous judging: ``executing`` stays true (status
0, 1, 3) until every active test case has run and ``polls_before_done`` polls have passed.
Python is compiled first (a syntax error is status 11, its text in the ``cmpinfo`` stream), C
goes through gcc. Each test case runs with its time limit and the account-wide
``memory_limit_kb``, compared by its judge: 1 ignores extra white space, 2 ignores float errors
up to 0.01, 3 is exact (a custom judge an account may add).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.code_runner import Outcome, run_program
from tests.fakes.sphere_judges import JUDGES, same_output

COMPILERS = {116: ("python", "Python 3"), 11: ("c", "C")}
MASTERJUDGES = {1000: "Generic masterjudge", 1001: "Score is % of correctly solved sets"}
NAMES = {0: "waiting", 1: "compilation", 3: "running", 11: "compilation error",
         12: "runtime error", 13: "time limit exceeded", 14: "wrong answer", 15: "accepted",
         17: "memory limit exceeded", 20: "internal error"}  # fmt: skip
OOM = (b"MemoryError", b"std::bad_alloc")


@dataclass
class Problem:
    id: int
    code: str
    name: str
    masterjudge: int
    testcases: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Submission:
    id: int
    problem: Problem
    compiler: int
    source: str
    polls: int = 0
    result: dict[str, Any] | None = None
    cmpinfo: str = ""


class FakeSphere:
    """Start with ``await server.start()``; ``server.endpoint`` is then the API base URL."""

    def __init__(self, *, access_token: str = "tok", polls_before_done: int = 2) -> None:
        self.access_token = access_token
        self.polls_before_done = polls_before_done
        self.memory_limit_kb = 256 * 1024
        self.fail_next: list[int] = []
        self.problems: dict[int, Problem] = {}
        self.submissions: dict[int, Submission] = {}
        self.requests = 0
        self.endpoint = ""
        self._tasks: list[asyncio.Task[None]] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    async def start(self) -> FakeSphere:
        app = web.Application(middlewares=[self._gate])
        r = app.router
        r.add_get("/api/v4/compilers", self._compilers)
        r.add_get("/api/v4/judges", self._judges)
        r.add_post("/api/v4/problems", self._create_problem)
        r.add_get("/api/v4/problems/{ref}", self._get_problem)
        r.add_delete("/api/v4/problems/{ref}", self._delete_problem)
        r.add_get("/api/v4/problems/{ref}/testcases", self._testcases)
        r.add_post("/api/v4/problems/{ref}/testcases", self._add_testcase)
        r.add_post("/api/v4/submissions", self._create_submission)
        r.add_get("/api/v4/submissions", self._get_many)
        r.add_get("/api/v4/submissions/{id}", self._get_one)
        r.add_get("/api/v4/submissions/{id}/{stream}", self._stream)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.endpoint = f"http://127.0.0.1:{self._runner.addresses[0][1]}/api/v4"
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests += 1
        if request.query.get("access_token") != self.access_token:
            return _error(401, "Unauthorized access", 1)
        if self.fail_next:
            return _error(self.fail_next.pop(0), "Service temporarily unavailable", 0)
        answer: web.StreamResponse = await handler(request)
        return answer

    async def _compilers(self, request: web.Request) -> web.Response:
        items = [{"id": k, "name": v[1]} for k, v in COMPILERS.items()]
        return web.json_response({"items": items})

    async def _judges(self, request: web.Request) -> web.Response:
        items = [{"id": k, "name": v, "typeId": 0} for k, v in JUDGES.items()]
        paging = {"limit": 10, "offset": 0, "total": len(items)}
        return web.json_response({"items": items, "paging": paging})

    # -- problems ----------------------------------------------------------------------------

    def _find(self, ref: str) -> Problem | None:
        if ref.isdigit() and int(ref) in self.problems:
            return self.problems[int(ref)]
        return next((p for p in self.problems.values() if p.code == ref), None)

    async def _create_problem(self, request: web.Request) -> web.Response:
        data = await _body(request)
        name, code = str(data.get("name", "")), str(data.get("code", ""))
        if not name:
            return _error(400, "Name cannot be empty", 1001)
        if code and any(p.code == code for p in self.problems.values()):
            return _error(400, "Problem code is already used", 1003)
        master = int(data.get("masterjudgeId", 0) or 0)
        if master not in MASTERJUDGES:
            return _error(400, "Masterjudge does not exist", 1004)
        problem = Problem(next(self._ids), code, name, master)
        self.problems[problem.id] = problem
        return web.json_response({"id": problem.id}, status=201)

    async def _get_problem(self, request: web.Request) -> web.Response:
        problem = self._find(request.match_info["ref"])
        if problem is None:
            return _error(404, "Problem does not exist", 1002)
        body = {"id": problem.id, "code": problem.code, "name": problem.name}
        return web.json_response(body | {"masterjudge": {"id": problem.masterjudge}})

    async def _delete_problem(self, request: web.Request) -> web.Response:
        problem = self._find(request.match_info["ref"])
        if problem is not None:
            del self.problems[problem.id]
        return web.json_response({}) if problem else _error(404, "Problem does not exist", 1002)

    async def _testcases(self, request: web.Request) -> web.Response:
        problem = self._find(request.match_info["ref"])
        if problem is None:
            return _error(404, "Problem does not exist", 1002)
        items = [
            {"number": t["number"], "active": True, "limits": {"time": t["timeLimit"]},
             "judge": {"id": t["judgeId"], "name": JUDGES[t["judgeId"]]}}
            for t in problem.testcases
        ]  # fmt: skip
        return web.json_response({"items": items})

    async def _add_testcase(self, request: web.Request) -> web.Response:
        problem = self._find(request.match_info["ref"])
        if problem is None:
            return _error(404, "Problem does not exist", 1002)
        data = await _body(request)
        judge = int(data.get("judgeId", 1) or 1)
        if judge not in JUDGES:
            return _error(400, "Judge does not exist", 1005)
        number = len(problem.testcases)
        problem.testcases.append(
            {"number": number, "input": str(data.get("input", "")),
             "output": str(data.get("output", "")), "timeLimit": float(data.get("timeLimit", 1)),
             "judgeId": judge, "active": str(data.get("active", "1")) in ("1", "true", "True")}
        )  # fmt: skip
        return web.json_response({"number": number}, status=201)

    # -- submissions -------------------------------------------------------------------------

    async def _create_submission(self, request: web.Request) -> web.Response:
        data = await _body(request)
        problem = self._find(str(data.get("problemId", "")))
        if problem is None:
            return _error(404, "Problem does not exist", 1002)
        compiler = int(data.get("compilerId", 0) or 0)
        if compiler not in COMPILERS:
            return _error(400, "Compiler does not exist", 1101)
        source = str(data.get("source", ""))
        if not source:
            return _error(400, "Source cannot be empty", 1102)
        sub = Submission(len(self.submissions) + 1, problem, compiler, source)
        self.submissions[sub.id] = sub
        self._tasks.append(asyncio.get_running_loop().create_task(self._judge(sub)))
        return web.json_response({"id": sub.id}, status=201)

    async def _judge(self, sub: Submission) -> None:
        language = COMPILERS[sub.compiler][0]
        if language == "python":
            try:
                compile(sub.source, "prog.py", "exec")
            except SyntaxError as exc:
                sub.cmpinfo = f'  File "prog.py", line {exc.lineno}\nSyntaxError: {exc.msg}\n'
                sub.result = _overall(11, [])
                return
        cases = []
        for tc in (t for t in sub.problem.testcases if t["active"]):
            outcome = await asyncio.to_thread(
                run_program, language, sub.source.encode(), tc["input"].encode(),
                cpu_seconds=tc["timeLimit"], wall_seconds=tc["timeLimit"] * 3 + 1,
                memory_kb=self.memory_limit_kb,
            )  # fmt: skip
            if not outcome.compiled:
                sub.cmpinfo = outcome.compile_output.decode(errors="replace")
                sub.result = _overall(11, [])
                return
            cases.append(self._case(tc, outcome))
        bad = next((c for c in cases if c["status"]["code"] != 15), None)
        sub.result = _overall(bad["status"]["code"] if bad else 15, cases)

    def _case(self, tc: dict[str, Any], out: Outcome) -> dict[str, Any]:
        if out.timed_out:
            code = 13
        elif out.exit_signal is not None or out.exit_code:
            oom = any(m in out.stderr for m in OOM) or out.memory_kb >= self.memory_limit_kb
            code = 17 if oom else 12
        else:
            code = (
                15
                if same_output(tc["output"], out.stdout.decode(errors="replace"), tc["judgeId"])
                else 14
            )
        return {
            "number": tc["number"], "status": {"code": code, "name": NAMES[code]},
            "score": 100 if code == 15 else 0, "time": out.cpu_seconds, "memory": out.memory_kb,
            "signal": out.exit_signal or 0, "signal_desc": "",
        }  # fmt: skip

    def _view(self, sub: Submission) -> dict[str, Any]:
        sub.polls += 1
        done = sub.result is not None and sub.polls > self.polls_before_done
        waiting = 0 if sub.polls == 1 else 1 if sub.polls == 2 else 3
        result = sub.result if done else _overall(waiting, [])
        assert result is not None
        base = self.endpoint + f"/submissions/{sub.id}"
        streams = {s: {"size": 1, "uri": f"{base}/{s}"} for s in ("source", "cmpinfo")}
        return {
            "id": sub.id, "executing": not done, "date": "2026-01-01 00:00:00 +00:00",
            "problem": {"id": sub.problem.id, "code": sub.problem.code, "name": sub.problem.name},
            "compiler": {"id": sub.compiler, "name": COMPILERS[sub.compiler][1]},
            "result": result | {"streams": streams}, "uri": base,
        }  # fmt: skip

    async def _get_one(self, request: web.Request) -> web.Response:
        sub = self.submissions.get(int(request.match_info["id"]))
        if sub is None:
            return _error(404, "Submission does not exist", 1201)
        return web.json_response(self._view(sub))

    async def _get_many(self, request: web.Request) -> web.Response:
        ids = [int(i) for i in request.query.get("ids", "").split(",") if i.strip().isdigit()]
        if not ids or len(ids) > 20:
            return _error(400, "Between 1 and 20 submission ids are required", 1202)
        items = [self._view(self.submissions[i]) for i in sorted(ids) if i in self.submissions]
        return web.json_response({"items": items})

    async def _stream(self, request: web.Request) -> web.Response:
        sub = self.submissions.get(int(request.match_info["id"]))
        stream = request.match_info["stream"]
        if sub is None or stream not in ("source", "cmpinfo", "output", "error", "debug"):
            return _error(404, "Submission or stream does not exist", 1203)
        text = {"source": sub.source, "cmpinfo": sub.cmpinfo}.get(stream, "")
        return web.Response(text=text, content_type="text/plain")


def _overall(code: int, cases: list[dict[str, Any]]) -> dict[str, Any]:
    passed = sum(c["status"]["code"] == 15 for c in cases)
    return {
        "status": {"code": code, "name": NAMES[code]},
        "score": round(100 * passed / len(cases), 2) if cases else 0,
        "time": round(sum(c["time"] for c in cases), 3),
        "memory": max((c["memory"] for c in cases), default=0),
        "signal": 0, "signal_desc": "", "testcases": cases,
    }  # fmt: skip


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return data if isinstance(data, dict) else {}
    return dict(await request.post())


def _error(status: int, message: str, code: int) -> web.Response:
    return web.json_response({"error_code": code, "message": message}, status=status)
