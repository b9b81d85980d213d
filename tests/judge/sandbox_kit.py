"""A real local sandbox with small limits, and helpers that run one program on one test."""

from __future__ import annotations

import os

from plugins.judge.backend import Checker, RunRequest, RunResult, TestSpec
from plugins.judge.local import LocalJudge
from plugins.judge.sandbox.config import LocalSandboxConfig


def small_config(**overrides: object) -> LocalSandboxConfig:
    values: dict[str, object] = {
        "max_parallel": 2,
        "compile_time_limit_ms": 8000,
        "output_limit_kb": 64,
        "wall_extra_ms": 500,
    }
    values.update(overrides)
    return LocalSandboxConfig.model_validate(values)


async def run_one(
    judge: LocalJudge,
    language: str,
    source: str,
    *,
    stdin: str = "",
    expected: str = "",
    time_limit_ms: int = 1000,
    memory_limit_mb: int = 64,
    checker: Checker = "whitespace",
) -> RunResult:
    test = TestSpec(
        name="t",
        input=stdin,
        expected=expected,
        time_limit_ms=time_limit_ms,
        memory_limit_mb=memory_limit_mb,
    )
    return await judge.run(
        RunRequest(language=language, source=source, tests=[test], checker=checker)
    )


def processes_of(uids: list[int]) -> list[str]:
    """Host processes of the sandbox uids, as 'pid: name' — zombies included: the judge reaps
    the sandbox's pid 1 itself (it is the subreaper), so not even those may remain."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue
        real_uid = int(fields.get("Uid", "-1").split()[0])
        if real_uid in uids:
            found.append(f"{entry}: {fields.get('Name', '?').strip()}")
    return found
