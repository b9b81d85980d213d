"""The Judge0 backend: every test becomes one Judge0 submission, judged by our own checker.

Judge0 (CE, 1.13 API) runs one program on one input per submission, asynchronously. A run is
therefore: create the submissions in batches (``POST /submissions/batch``), poll them by token
(``GET /submissions/batch?tokens=...``) with a growing interval until none is "In Queue" or
"Processing", then turn each into a :class:`TestResult`.

Why compare here (``plugins.judge.checker``) and not send ``expected_output``: Judge0's own
comparison only trims trailing white space, so float tolerance and the exact/whitespace modes
would grade differently from the local sandbox. Expected output is never sent, so hidden
answers never leave the server; Judge0 reports "Accepted" for any clean exit and our checker
decides. Everything travels Base64-encoded (``base64_encoded=true``) so binary or non-UTF-8
output cannot break the JSON.

Status mapping (Judge0 ``status.id`` → verdict):
3 → checker decides (accepted / wrong answer); 4 → wrong answer; 5 → time limit;
6 → compile error; 8 (SIGXFSZ, file size) → output limit; 7 and 9 to 12 → runtime error, or
memory limit when the program died of memory exhaustion (Judge0 has no memory verdict: with an
address-space limit the program sees a failed allocation, so we read the usual out-of-memory
messages on stderr, or a peak memory at 90 % of the limit or more);
13 (Internal Error), 14 (Exec Format Error) → internal error.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp

from plugins.judge.backend import (
    JudgeUnavailable,
    Language,
    RunRequest,
    RunResult,
    TestResult,
    TestSpec,
    Verdict,
)
from plugins.judge.checker import outputs_match
from plugins.judge.http_retry import JudgeSetupError, Reply, RetryPolicy, call, error_text
from plugins.judge.judge0_config import Judge0Config, RemoteLanguage
from plugins.judge.remote_results import preview, summarise

__all__ = ["Judge0Config", "Judge0Judge"]

PENDING = frozenset({1, 2})
RUNTIME_ERRORS = frozenset({7, 9, 10, 11, 12})
FIELDS = "token,status,stdout,stderr,compile_output,message,time,memory,exit_code,exit_signal"
WRONG = "output differs from the expected output"
OOM_MARKERS = (
    "MemoryError",
    "std::bad_alloc",
    "OutOfMemoryError",
    "heap out of memory",
    "Cannot allocate memory",
    "out of memory",
)


class Judge0Judge:
    """A :class:`~plugins.judge.backend.JudgeBackend` that runs code on a Judge0 server."""

    name = "judge0"

    def __init__(self, config: Judge0Config) -> None:
        self._config = config
        self._policy = RetryPolicy(
            retries=config.retries, backoff_seconds=config.retry_backoff_seconds
        )
        self._session: aiohttp.ClientSession | None = None

    def languages(self) -> list[Language]:
        return [
            Language(name=name, label=lang.label, editor_mode=lang.editor_mode)
            for name, lang in self._config.languages.items()
        ]

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def run(self, request: RunRequest) -> RunResult:
        language = self._language(request.language)
        submissions = [self._submission(language.id, request.source, t) for t in request.tests]
        size = self._config.batch_size
        tokens: list[str] = []
        for start in range(0, len(submissions), size):
            tokens += await self._create(submissions[start : start + size], request.language)
        finished = await self._wait(tokens)
        tests = [
            self._test_result(request, test, finished.get(token), sub["memory_limit"])
            for test, token, sub in zip(request.tests, tokens, submissions, strict=True)
        ]
        compile_output = next(
            (_text(s.get("compile_output")) for s in finished.values() if s and _status(s) == 6),
            "",
        )
        return summarise(tests, compile_output=compile_output)

    # -- requests ------------------------------------------------------------------------

    def _language(self, name: str) -> RemoteLanguage:
        language = self._config.languages.get(name)
        if language is None:
            offered = ", ".join(sorted(self._config.languages)) or "none"
            raise JudgeSetupError(
                f"the judge0 backend has no language {name!r} (offered: {offered}); "
                "add it under [judge.judge0.languages]"
            )
        return language

    def _submission(self, language_id: int, source: str, test: TestSpec) -> dict[str, Any]:
        cfg = self._config
        cpu = min(test.time_limit_ms / 1000, cfg.max_cpu_time_limit)
        return {
            "source_code": _b64(source),
            "language_id": language_id,
            "stdin": _b64(test.input),
            "cpu_time_limit": cpu,
            "wall_time_limit": min(max(cpu * 3, cpu + 2), cfg.max_wall_time_limit),
            "memory_limit": min(test.memory_limit_mb * 1024, cfg.max_memory_limit_kb),
        }

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            cfg = self._config
            headers: dict[str, str] = {}
            if cfg.auth_token is not None:
                headers[cfg.auth_header] = cfg.auth_token.get_secret_value()
            if cfg.authz_token is not None:
                headers[cfg.authz_header] = cfg.authz_token.get_secret_value()
            self._session = aiohttp.ClientSession(
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=cfg.request_timeout_seconds),
                connector=aiohttp.TCPConnector(ssl=cfg.verify_tls),
            )
        return self._session

    async def _call(self, method: str, path: str, **kwargs: Any) -> Reply:
        return await call(
            self._client(),
            method,
            self._config.url + path,
            service=f"Judge0 at {self._config.url}",
            policy=self._policy,
            **kwargs,
        )

    async def _create(self, batch: list[dict[str, Any]], language: str) -> list[str]:
        reply = await self._call(
            "POST",
            "/submissions/batch",
            params={"base64_encoded": "true"},
            json_body={"submissions": batch},
        )
        if reply.status == 400:
            raise JudgeSetupError(
                f"Judge0 refused the batch: {error_text(reply.body)} "
                "(lower [judge.judge0] batch_size, or enable batched submissions)"
            )
        if reply.status not in (201, 422) or not isinstance(reply.body, list):
            raise JudgeUnavailable(f"Judge0 answered {reply.status}: {error_text(reply.body)}")
        tokens: list[str] = []
        for item in reply.body:
            if isinstance(item, dict) and isinstance(item.get("token"), str):
                tokens.append(item["token"])
                continue
            problem = error_text(item)
            if isinstance(item, dict) and "language_id" in item:
                raise JudgeSetupError(
                    f"Judge0 has no language id {batch[0]['language_id']} (configured for "
                    f"{language!r}): {problem}; fix [judge.judge0.languages]"
                )
            raise JudgeSetupError(f"Judge0 rejected a submission: {problem}")
        return tokens

    async def _wait(self, tokens: list[str]) -> dict[str, dict[str, Any] | None]:
        """Poll until every token is finished; a token Judge0 no longer knows maps to None."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.timeout_seconds
        interval = self._config.poll_interval_seconds
        pending = list(dict.fromkeys(tokens))
        finished: dict[str, dict[str, Any] | None] = {}
        while pending:
            if loop.time() + interval > deadline:
                raise JudgeUnavailable(
                    f"Judge0 did not finish {len(pending)} of {len(tokens)} tests within "
                    f"{self._config.timeout_seconds:g} s"
                )
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, self._config.max_poll_interval_seconds)
            size = self._config.batch_size
            for start in range(0, len(pending), size):
                chunk = pending[start : start + size]
                for token, sub in zip(chunk, await self._fetch(chunk), strict=True):
                    if sub is None or _status(sub) not in PENDING:
                        finished[token] = sub
            pending = [t for t in pending if t not in finished]
        return finished

    async def _fetch(self, tokens: list[str]) -> list[dict[str, Any] | None]:
        reply = await self._call(
            "GET",
            "/submissions/batch",
            params={"tokens": ",".join(tokens), "base64_encoded": "true", "fields": FIELDS},
        )
        body = reply.body
        if reply.status != 200 or not isinstance(body, dict):
            raise JudgeUnavailable(f"Judge0 answered {reply.status}: {error_text(body)}")
        subs = body.get("submissions")
        if not isinstance(subs, list) or len(subs) != len(tokens):
            raise JudgeUnavailable("Judge0 answered a batch of the wrong shape")
        return [s if isinstance(s, dict) else None for s in subs]

    # -- results -------------------------------------------------------------------------

    def _test_result(
        self, request: RunRequest, test: TestSpec, sub: dict[str, Any] | None, limit_kb: int
    ) -> TestResult:
        base: dict[str, Any] = {"name": test.name, "weight": test.weight, "hidden": test.hidden}
        if sub is None:
            return TestResult(
                **base, verdict=Verdict.INTERNAL_ERROR, message="Judge0 lost this submission"
            )
        stdout, stderr = _text(sub.get("stdout")), _text(sub.get("stderr"))
        time_ms = round(float(sub["time"]) * 1000) if sub.get("time") is not None else None
        memory_kb = int(sub["memory"]) if sub.get("memory") is not None else None
        verdict, message = self._verdict(
            request, test, sub, stdout=stdout, stderr=stderr, limit_kb=limit_kb
        )
        if not test.hidden:
            base |= {"stdout": preview(stdout, self._config.preview_chars)}
            base |= {"stderr": preview(stderr, self._config.preview_chars)}
        return TestResult(
            **base, verdict=verdict, time_ms=time_ms, memory_kb=memory_kb, message=message
        )

    def _verdict(
        self,
        request: RunRequest,
        test: TestSpec,
        sub: dict[str, Any],
        *,
        stdout: str,
        stderr: str,
        limit_kb: int,
    ) -> tuple[Verdict, str]:
        status = _status(sub)
        described = str((sub.get("status") or {}).get("description") or f"status {status}")
        detail = _text(sub.get("message")).strip()
        if status == 3:
            if outputs_match(test.expected, stdout, request.checker, request.float_tolerance):
                return Verdict.ACCEPTED, ""
            return Verdict.WRONG_ANSWER, WRONG
        if status == 4:
            return Verdict.WRONG_ANSWER, WRONG
        if status == 5:
            return Verdict.TIME_LIMIT, f"killed after {test.time_limit_ms / 1000:g} s of CPU time"
        if status == 6:
            return Verdict.COMPILE_ERROR, "compilation failed"
        if status == 8:
            return Verdict.OUTPUT_LIMIT, "the program wrote more output than allowed"
        if status in RUNTIME_ERRORS:
            memory = sub.get("memory")
            if any(m in stderr for m in OOM_MARKERS) or (
                memory is not None and int(memory) >= 0.9 * limit_kb
            ):
                return Verdict.MEMORY_LIMIT, f"ran out of memory ({limit_kb // 1024} MB allowed)"
            return Verdict.RUNTIME_ERROR, f"{described}{': ' + detail if detail else ''}"
        return Verdict.INTERNAL_ERROR, f"Judge0: {described}{': ' + detail if detail else ''}"


def _status(sub: dict[str, Any]) -> int:
    status = sub.get("status")
    if isinstance(status, dict) and isinstance(status.get("id"), int):
        return int(status["id"])
    return int(sub.get("status_id") or 0)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _text(value: Any) -> str:
    """Decode one Base64 field; undecodable bytes become U+FFFD rather than an error."""
    if not value:
        return ""
    try:
        raw = base64.b64decode(str(value), validate=False)
    except ValueError:
        return str(value)
    return raw.decode("utf-8", errors="replace")
