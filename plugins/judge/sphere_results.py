"""Sphere Engine's per-test-case results in our terms (see :mod:`plugins.judge.sphere`)."""

from __future__ import annotations

from typing import Any

from plugins.judge.backend import TestResult, TestSpec, Verdict

VERDICTS = {
    11: (Verdict.COMPILE_ERROR, "compilation failed"),
    12: (Verdict.RUNTIME_ERROR, "runtime error"),
    13: (Verdict.TIME_LIMIT, "time limit exceeded"),
    14: (Verdict.WRONG_ANSWER, "output differs from the expected output"),
    15: (Verdict.ACCEPTED, ""),
    17: (Verdict.MEMORY_LIMIT, "memory limit exceeded"),
    19: (Verdict.RUNTIME_ERROR, "illegal system call"),
    20: (Verdict.INTERNAL_ERROR, "Sphere Engine internal error"),
}


def case_result(
    number: int, test: TestSpec, case: dict[str, Any] | None, overall: int
) -> TestResult:
    """Test ``number``'s result; ``case`` is Sphere Engine's entry for it, if it has one."""
    base: dict[str, Any] = {"name": test.name, "weight": test.weight, "hidden": test.hidden}
    if case is None:
        if overall == 11:  # nothing ran: the program did not compile
            return TestResult(**base, verdict=Verdict.COMPILE_ERROR, message=VERDICTS[11][1])
        message = f"Sphere Engine reported no result for test case {number}"
        return TestResult(**base, verdict=Verdict.INTERNAL_ERROR, message=message)
    code = int((case.get("status") or {}).get("code", 20))
    verdict, message = VERDICTS.get(code, (Verdict.INTERNAL_ERROR, f"Sphere Engine status {code}"))
    if code == 13:
        message = f"killed after {test.time_limit_ms / 1000:g} s"
    elif verdict is Verdict.RUNTIME_ERROR and case.get("signal_desc"):
        message = f"{message}: {case['signal_desc']}"
    time_s, memory = case.get("time"), case.get("memory")
    return TestResult(
        **base,
        verdict=verdict,
        message=message,
        time_ms=round(float(time_s) * 1000) if time_s is not None else None,
        memory_kb=int(memory) if memory is not None else None,
    )
