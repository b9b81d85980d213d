"""A Judge0 CE (1.13 API) server on loopback that really runs the submitted programs.

It follows Judge0's controllers: token auth through ``X-Auth-Token`` (401 with an empty body),
``base64_encoded`` for source, stdin and outputs, validation errors as 422 with a per-field map
(``{"language_id": ["language with id 99 doesn't exist"]}``), batch limits as 400
(``MAX_SUBMISSION_BATCH_SIZE``), ``null`` for unknown tokens in a batch, and the asynchronous
lifecycle: a submission is "In Queue" on the first poll, "Processing" on the next ones, and
finished only after ``polls_before_done`` polls and its program has exited.

Statuses come from the real run (:mod:`tests.fakes.code_runner`): exit 0 is Accepted (or Wrong
Answer when ``expected_output`` was sent and differs after Judge0's trailing-space trim),
SIGXCPU/wall timeout is Time Limit Exceeded, a signal maps as Judge0's ``Status`` does
(11 → SIGSEGV, 25 → SIGXFSZ, 8 → SIGFPE, 6 → SIGABRT, else Other), another exit code is NZEC.

Tests make it misbehave with ``fail_next`` (the next requests answer a status, e.g. 503),
``delay_seconds`` (every request is slow) and ``auth_token`` (a token is required).
"""

from __future__ import annotations

import asyncio
import base64
import signal
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.code_runner import Outcome, run_program

LANGUAGES = {71: ("python", "Python (3.8.1)"), 50: ("c", "C (GCC 9.2.0)")}
STATUS_NAMES = {
    1: "In Queue", 2: "Processing", 3: "Accepted", 4: "Wrong Answer",
    5: "Time Limit Exceeded", 6: "Compilation Error", 7: "Runtime Error (SIGSEGV)",
    8: "Runtime Error (SIGXFSZ)", 9: "Runtime Error (SIGFPE)", 10: "Runtime Error (SIGABRT)",
    11: "Runtime Error (NZEC)", 12: "Runtime Error (Other)", 13: "Internal Error",
    14: "Exec Format Error",
}  # fmt: skip
SIGNAL_STATUS: dict[int, int] = {
    int(signal.SIGSEGV): 7,
    int(signal.SIGXFSZ): 8,
    int(signal.SIGFPE): 9,
    int(signal.SIGABRT): 10,
}
LIMITS = {"cpu_time_limit": 15.0, "wall_time_limit": 20.0, "memory_limit": 512_000}
DEFAULTS = {"cpu_time_limit": 2.0, "wall_time_limit": 5.0, "memory_limit": 128_000}
DEFAULT_FIELDS = ("token", "stdout", "time", "memory", "stderr", "compile_output", "message",
                  "status")  # fmt: skip
ALL_FIELDS = frozenset(DEFAULT_FIELDS) | {
    "status_id", "exit_code", "exit_signal", "language_id", "stdin", "source_code",
    "expected_output", "wall_time",
}  # fmt: skip


@dataclass
class Submission:
    token: str
    params: dict[str, Any]
    polls: int = 0
    outcome: Outcome | None = None
    task: asyncio.Task[None] | None = None
    received: dict[str, Any] = field(default_factory=dict)


class FakeJudge0:
    """Start with ``await server.start()``; ``server.url`` is then the API base URL."""

    def __init__(
        self, *, auth_token: str | None = None, max_batch: int = 20, polls_before_done: int = 2
    ) -> None:
        self.auth_token = auth_token
        self.max_batch = max_batch
        self.polls_before_done = polls_before_done
        self.fail_next: list[int] = []
        self.delay_seconds = 0.0
        self.submissions: dict[str, Submission] = {}
        self.batch_sizes: list[int] = []
        self.requests = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> FakeJudge0:
        app = web.Application(middlewares=[self._gate])
        app.router.add_get("/languages", self._languages)
        app.router.add_post("/submissions", self._create_one)
        app.router.add_post("/submissions/batch", self._create_batch)
        app.router.add_get("/submissions/batch", self._show_batch)
        app.router.add_get("/submissions/{token}", self._show_one)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        for sub in self.submissions.values():
            if sub.task is not None:
                sub.task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests += 1
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.auth_token is not None:
            given = request.headers.get("X-Auth-Token") or request.query.get("X-Auth-Token")
            if given != self.auth_token:
                return web.Response(status=401)
        if self.fail_next:
            status = self.fail_next.pop(0)
            return web.json_response({"error": "queue is full"}, status=status)
        answer: web.StreamResponse = await handler(request)
        return answer

    async def _languages(self, request: web.Request) -> web.Response:
        return web.json_response([{"id": k, "name": v[1]} for k, v in LANGUAGES.items()])

    # -- creation ------------------------------------------------------------------------

    def _b64(self, request: web.Request) -> bool:
        return request.query.get("base64_encoded", "false") == "true"

    def _new(self, raw: dict[str, Any], b64: bool) -> tuple[Submission | None, dict[str, Any]]:
        errors: dict[str, list[str]] = {}
        params = {k: raw.get(k, DEFAULTS.get(k)) for k in (*DEFAULTS, "language_id")}
        for key in ("source_code", "stdin", "expected_output"):
            value = raw.get(key)
            if value is not None and b64:
                try:
                    value = base64.b64decode(value, validate=True)
                except ValueError:
                    errors.setdefault(key, []).append("is not valid Base64")
                    continue
            params[key] = value.encode() if isinstance(value, str) else value
        if not params.get("source_code"):
            errors.setdefault("source_code", []).append("can't be blank")
        if params["language_id"] not in LANGUAGES:
            msg = f"language with id {params['language_id']} doesn't exist"
            errors.setdefault("language_id", []).append(msg)
        for key, most in LIMITS.items():
            value = params[key]
            if not isinstance(value, int | float) or not 0 < value <= most:
                errors.setdefault(key, []).append(f"must be less than or equal to {most:g}")
        if errors:
            return None, errors
        sub = Submission(token=str(uuid.uuid4()), params=params, received=dict(raw))
        sub.task = asyncio.get_running_loop().create_task(self._execute(sub))
        self.submissions[sub.token] = sub
        return sub, {"token": sub.token}

    async def _execute(self, sub: Submission) -> None:
        p = sub.params
        sub.outcome = await asyncio.to_thread(
            run_program,
            LANGUAGES[p["language_id"]][0],
            p["source_code"],
            p.get("stdin") or b"",
            cpu_seconds=float(p["cpu_time_limit"]),
            wall_seconds=float(p["wall_time_limit"]),
            memory_kb=int(p["memory_limit"]),
        )

    async def _create_one(self, request: web.Request) -> web.Response:
        if request.query.get("wait") == "true":
            return web.json_response({"error": "wait not allowed"}, status=400)
        _, answer = self._new(await request.json(), self._b64(request))
        return web.json_response(answer, status=201 if "token" in answer else 422)

    async def _create_batch(self, request: web.Request) -> web.Response:
        body = await request.json()
        items = body.get("submissions") if isinstance(body, dict) else None
        count = len(items) if isinstance(items, list) else 0
        if count > self.max_batch:
            return web.json_response(
                {"error": "number of submissions in a batch should be less than or equal to "
                 f"{self.max_batch}"}, status=400)  # fmt: skip
        if count == 0:
            return web.json_response(
                {"error": "there should be at least one submission in a batch"}, status=400
            )
        self.batch_sizes.append(count)
        answers = [self._new(item, self._b64(request))[1] for item in items or []]
        ok = any("token" in a for a in answers)
        return web.json_response(answers, status=201 if ok else 422)

    # -- results -------------------------------------------------------------------------

    def _fields(self, request: web.Request) -> tuple[str, ...] | web.Response:
        raw = request.query.get("fields")
        if raw is None:
            return DEFAULT_FIELDS
        fields = tuple(f.strip() for f in raw.split(",") if f.strip())
        bad = [f for f in fields if f not in ALL_FIELDS]
        if bad:
            return web.json_response({"error": f"invalid fields: [{', '.join(bad)}]"}, status=400)
        return fields

    def _serialise(self, sub: Submission, fields: tuple[str, ...], b64: bool) -> dict[str, Any]:
        sub.polls += 1
        status, out = self._result(sub)
        data: dict[str, Any] = {"token": sub.token, "status_id": status}
        data["status"] = {"id": status, "description": STATUS_NAMES[status]}
        data["language_id"] = sub.params["language_id"]
        for key in ("stdout", "stderr", "compile_output", "message"):
            data[key] = out.get(key)
        data |= {k: out.get(k) for k in ("time", "memory", "exit_code", "exit_signal")}
        for key in ("stdout", "stderr", "compile_output", "message"):
            value = data[key]
            if value is not None:
                data[key] = base64.b64encode(value).decode() if b64 else value.decode()
        return {f: data.get(f) for f in fields}

    def _result(self, sub: Submission) -> tuple[int, dict[str, Any]]:
        if sub.polls <= 1:
            return 1, {}
        outcome = sub.outcome
        if outcome is None or sub.polls <= self.polls_before_done:
            return 2, {}
        if not outcome.compiled:
            return 6, {"compile_output": outcome.compile_output}
        out: dict[str, Any] = {
            "stdout": outcome.stdout or None,
            "stderr": outcome.stderr or None,
            "time": f"{outcome.cpu_seconds:.3f}",
            "memory": outcome.memory_kb,
            "exit_code": outcome.exit_code,
            "exit_signal": outcome.exit_signal,
        }
        if outcome.timed_out:
            return 5, out | {"message": b"Time limit exceeded"}
        if outcome.exit_signal is not None:
            out["message"] = f"Caught fatal signal {outcome.exit_signal}".encode()
            return SIGNAL_STATUS.get(outcome.exit_signal, 12), out
        if outcome.exit_code:
            return 11, out | {"message": f"Exited with error status {outcome.exit_code}".encode()}
        expected = sub.params.get("expected_output")
        if expected is not None and _trim(expected) != _trim(outcome.stdout):
            return 4, out
        return 3, out

    async def _show_one(self, request: web.Request) -> web.Response:
        sub = self.submissions.get(request.match_info["token"])
        if sub is None:
            return web.json_response({"error": "submission not found"}, status=404)
        fields = self._fields(request)
        if isinstance(fields, web.Response):
            return fields
        return web.json_response(self._serialise(sub, fields, self._b64(request)))

    async def _show_batch(self, request: web.Request) -> web.Response:
        tokens = [t for t in request.query.get("tokens", "").strip().split(",") if t]
        if len(tokens) > self.max_batch:
            return web.json_response(
                {"error": "number of submissions in a batch should be less than or equal to "
                 f"{self.max_batch}"}, status=400)  # fmt: skip
        if not tokens:
            return web.json_response(
                {"error": "there should be at least one submission in a batch"}, status=400
            )
        fields = self._fields(request)
        if isinstance(fields, web.Response):
            return fields
        b64 = self._b64(request)
        subs = [self.submissions.get(t) for t in tokens]
        try:
            body = [self._serialise(s, fields, b64) if s else None for s in subs]
        except UnicodeDecodeError:
            return web.json_response(
                {"error": "some attributes for one or more submissions cannot be converted to "
                 "UTF-8, use base64_encoded=true query parameter"}, status=400)  # fmt: skip
        return web.json_response({"submissions": body})


def _trim(output: bytes) -> bytes:
    return b"\n".join(line.rstrip() for line in output.split(b"\n")).rstrip()
