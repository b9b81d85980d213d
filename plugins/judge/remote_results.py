"""Turning a remote service's per-test answers into one :class:`RunResult`, the same way for
Judge0 and Sphere Engine, so a verdict reads alike whichever backend produced it."""

from __future__ import annotations

from plugins.judge.backend import RunResult, TestResult, Verdict


def preview(text: str, limit: int) -> str:
    """The start of an output stream, marked when cut."""
    return text if len(text) <= limit else text[:limit] + "\n[…]"


def summarise(tests: list[TestResult], *, compile_output: str = "", note: str = "") -> RunResult:
    """Overall verdict: compile error if the program did not build, else the first test that
    failed, else accepted."""
    if any(t.verdict is Verdict.COMPILE_ERROR for t in tests):
        return RunResult(
            verdict=Verdict.COMPILE_ERROR,
            tests=tests,
            compile_output=compile_output,
            message=_join("the program did not compile", note),
        )
    bad = next((t for t in tests if t.verdict is not Verdict.ACCEPTED), None)
    passed = sum(t.verdict is Verdict.ACCEPTED for t in tests)
    summary = f"{passed} of {len(tests)} tests passed"
    if bad is not None:
        summary += f"; {bad.name}: {bad.message or bad.verdict.value.replace('_', ' ')}"
    return RunResult(
        verdict=bad.verdict if bad is not None else Verdict.ACCEPTED,
        tests=tests,
        compile_output=compile_output,
        message=_join(summary, note),
    )


def _join(first: str, second: str) -> str:
    return f"{first} ({second})" if second else first
