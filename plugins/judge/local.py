"""The local judge backend: compiles and runs candidates' code in bubblewrap sandboxes.

One submission is one compile sandbox (when the language has a compile step) and one fresh
sandbox per test. The compiled program travels from the compile sandbox to the test sandboxes
through a pipe and a sealed in-memory file — never through a path on the host, so nothing the
submission did to its work folder (symlinks, hard links, huge files) can reach the host. The
compiler runs inside the sandbox too, under its own limits: compile-time bombs are a candidate's
fault and end as compile errors.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass

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
from plugins.judge.sandbox.command import Limits
from plugins.judge.sandbox.config import LanguageSpec, LocalSandboxConfig
from plugins.judge.sandbox.process import Outcome
from plugins.judge.sandbox.reaper import become_subreaper
from plugins.judge.sandbox.runner import start_sandbox
from plugins.judge.sandbox.seccomp import build_filter
from plugins.judge.sandbox.slots import SlotPool
from plugins.judge.sandbox.verdicts import classify

log = logging.getLogger(__name__)

SHOWN_CHARS = 2000  # start of stdout/stderr kept in a TestResult
KIB = 1024


@dataclass
class _Program:
    """What every test sandbox gets: a file to inject and the argv that runs it."""

    data: bytes
    name: str
    mode: str
    spec: LanguageSpec


def _text(data: bytes, limit: int = SHOWN_CHARS) -> str:
    return data.decode("utf-8", "replace")[:limit]


class LocalJudge:
    """``[judge] backend = "local"``: safe to call concurrently, bounded by ``max_parallel``."""

    name = "local"

    def __init__(self, config: LocalSandboxConfig | None = None) -> None:
        self.config = config or LocalSandboxConfig()
        self.bwrap = shutil.which(self.config.bwrap_path)
        self.seccomp = build_filter()
        self.slots = SlotPool(self.config.max_parallel, self.config.sandbox_uid)
        self.subreaper = become_subreaper()

    def languages(self) -> list[Language]:
        return [
            Language(name=name, label=spec.label, editor_mode=spec.editor_mode)
            for name, spec in self.config.languages.items()
        ]

    def status(self) -> dict[str, str]:
        """What an operator checks: is the sandbox usable, and how strong is it here."""
        return {
            "bwrap": self.bwrap or "missing",
            "seccomp": "on" if self.seccomp is not None else "off",
            "identity": self.slots.describe(),
            "max_parallel": str(self.config.max_parallel),
            "reaper": "this process" if self.subreaper else "the host's init",
        }

    def _check_ready(self) -> None:
        if self.bwrap is None:
            raise JudgeUnavailable(f"bubblewrap ({self.config.bwrap_path}) is not installed")
        if self.seccomp is None and self.config.require_seccomp:
            raise JudgeUnavailable("seccomp is required but libseccomp is not available")

    async def check(self) -> str | None:
        """Run a trivial program in a sandbox: None when that works, else why not (for an
        operator's status page; user namespaces disabled by the kernel show up here)."""
        try:
            self._check_ready()
        except JudgeUnavailable as error:
            return str(error)
        limits = Limits(
            cpu_ms=2000, address_space_mb=256, processes=4, file_mb=1, open_files=16, stack_mb=8
        )
        outcome = await self._sandbox(
            ["/bin/sh", "-c", "echo ok"],
            limits,
            [],
            stdin=b"",
            stdout_cap=64,
            stderr_cap=4096,
            strict=False,
        )
        if not outcome.started or not outcome.monitor_ran:
            return f"the sandbox does not start: {outcome.setup_error}".strip()
        if outcome.stdout != b"ok\n":
            return f"the sandbox started but did not run: {_text(outcome.stderr)}".strip()
        return None

    async def close(self) -> None:
        """Nothing is held between runs: every sandbox ends before run() returns."""

    async def run(self, request: RunRequest) -> RunResult:
        self._check_ready()
        spec = self.config.languages.get(request.language)
        if spec is None:
            return RunResult(
                verdict=Verdict.COMPILE_ERROR,
                message=f"unknown language {request.language!r}",
            )
        source = request.source.encode()
        program = _Program(source, spec.source_file, "0644", spec)
        compile_output = ""
        if spec.compile is not None:
            compiled = await self._compile(spec, source)
            if isinstance(compiled, RunResult):
                return compiled
            program, compile_output = compiled
        results = [await self._run_test(program, request, test) for test in request.tests]
        failed = next((t for t in results if t.verdict is not Verdict.ACCEPTED), None)
        return RunResult(
            verdict=failed.verdict if failed else Verdict.ACCEPTED,
            tests=results,
            compile_output=compile_output,
            message=f"{failed.name}: {failed.message}".rstrip(": ") if failed else "",
        )

    async def _compile(self, spec: LanguageSpec, source: bytes) -> tuple[_Program, str] | RunResult:
        config = self.config
        assert spec.compile is not None
        argv = list(spec.compile)
        if spec.artifact is not None:  # compiler messages to stderr, the program to stdout
            argv = ["/bin/sh", "-c", f'"$@" 1>&2 && exec /bin/cat -- {spec.artifact}', "sh"]
            argv += spec.compile
        limits = Limits(
            cpu_ms=config.compile_time_limit_ms,
            address_space_mb=config.compile_memory_mb + spec.address_space_extra_mb,
            processes=spec.max_processes or config.max_processes,
            file_mb=min(config.max_file_mb * 4, config.work_dir_mb),
            open_files=config.max_open_files,
            stack_mb=config.stack_mb,
        )
        outcome = await self._sandbox(
            argv,
            limits,
            [(source, spec.source_file, "0644")],
            stdin=b"",
            stdout_cap=config.artifact_limit_mb * KIB * KIB if spec.artifact else 64 * KIB,
            stderr_cap=config.compile_output_kb * KIB,
        )
        messages = _text(outcome.stderr, config.compile_output_kb * KIB)
        problem = ""
        if outcome.wall_timeout or outcome.cpu_ms > config.compile_time_limit_ms:
            problem = f"compilation took too long (limit {config.compile_time_limit_ms / 1000:g} s)"
        elif outcome.stdout_overflow:
            problem = f"the compiled program is larger than {config.artifact_limit_mb} MiB"
        elif outcome.exit_code != 0:
            problem = "compilation failed"
            if outcome.exit_code is None or outcome.exit_code > 128:  # 128+n: sh saw signal n
                problem = "the compiler was killed (out of memory or another limit)"
        if problem:
            return RunResult(
                verdict=Verdict.COMPILE_ERROR, compile_output=messages, message=problem
            )
        if spec.artifact is None:
            return _Program(source, spec.source_file, "0644", spec), messages
        return _Program(outcome.stdout, spec.artifact, "0755", spec), messages

    async def _run_test(self, program: _Program, request: RunRequest, test: TestSpec) -> TestResult:
        config, spec = self.config, program.spec
        limits = Limits(
            cpu_ms=test.time_limit_ms,
            address_space_mb=test.memory_limit_mb + spec.address_space_extra_mb,
            processes=spec.max_processes or config.max_processes,
            file_mb=config.max_file_mb,
            open_files=config.max_open_files,
            stack_mb=config.stack_mb,
        )
        argv = [part.replace("{memory_mb}", str(test.memory_limit_mb)) for part in spec.run]
        outcome = await self._sandbox(
            argv,
            limits,
            [(program.data, program.name, program.mode)],
            stdin=test.input.encode(),
            stdout_cap=config.output_limit_kb * KIB,
            stderr_cap=config.stderr_limit_kb * KIB,
            wall_ms=int(test.time_limit_ms * config.wall_factor) + config.wall_extra_ms,
        )
        verdict, message = classify(
            outcome,
            time_limit_ms=test.time_limit_ms,
            memory_limit_mb=test.memory_limit_mb,
            output_limit_kb=config.output_limit_kb,
        )
        stdout = outcome.stdout.decode("utf-8", "replace")
        if verdict is None:
            matched = outputs_match(test.expected, stdout, request.checker, request.float_tolerance)
            verdict = Verdict.ACCEPTED if matched else Verdict.WRONG_ANSWER
            message = "" if matched else "the output differs from the expected output"
        return TestResult(
            name=test.name,
            verdict=verdict,
            time_ms=outcome.cpu_ms,
            memory_kb=outcome.memory_kb,
            weight=test.weight,
            hidden=test.hidden,
            stdout=stdout[:SHOWN_CHARS],
            stderr=_text(outcome.stderr),
            message=message,
        )

    async def _sandbox(
        self,
        argv: list[str],
        limits: Limits,
        files: list[tuple[bytes, str, str]],
        *,
        stdin: bytes,
        stdout_cap: int,
        stderr_cap: int,
        wall_ms: int | None = None,
        strict: bool = True,
    ) -> Outcome:
        """One sandbox from start to reaped, holding a slot (and its uid) meanwhile.

        ``strict``: a sandbox that did not start, or whose monitor never ran, is the server's
        fault (user namespaces off, a tool missing): JudgeUnavailable, so the run is retried
        later instead of costing the candidate marks."""
        outcome = await start_sandbox(
            self.config,
            argv,
            limits,
            bwrap=self.bwrap or self.config.bwrap_path,
            seccomp=self.seccomp,
            slots=self.slots,
            files=files,
            stdin=stdin,
            stdout_cap=stdout_cap,
            stderr_cap=stderr_cap,
            wall_ms=wall_ms,
        )
        if strict and not (outcome.started and outcome.monitor_ran):
            log.error("judge sandbox did not start: %s", outcome.setup_error)
            detail = outcome.setup_error.strip().splitlines()
            raise JudgeUnavailable(
                "the sandbox did not start" + (f": {detail[-1]}" if detail else "")
            )
        return outcome
