"""From a coding question to a run request, and from a run result to what each person may see.

The question's payload (:class:`plugins.questions.payloads.Coding`) holds the tests; a run
request is built from it each time, with the question's time and memory limits on every test.
'Run samples' runs only the samples; grading runs samples and hidden tests together, so the
marks cover everything the examiner wrote.

Hidden tests must never reach the candidate: :func:`candidate_view` keeps only their verdict,
time and memory, and drops their input, expected output, stdout, stderr and message. The
examiner's view keeps everything, with each hidden test marked ``hidden``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from plugins.judge.backend import RunRequest, RunResult, TestSpec, Verdict
from plugins.questions.payloads import Coding, TestCase

# What a hidden test may show a candidate. Everything else is the examiner's only.
HIDDEN_FIELDS = ("name", "verdict", "time_ms", "memory_kb", "weight", "hidden")


def code_hash(language: str, code: str) -> str:
    """The identity of a program: the same text in another language is another program."""
    return hashlib.sha256(f"{language}\0{code}".encode()).hexdigest()


def coding_payload(payload: Mapping[str, Any]) -> Coding:
    return Coding.model_validate(dict(payload))


def _specs(payload: Coding, cases: list[TestCase], label: str, hidden: bool) -> list[TestSpec]:
    return [
        TestSpec(
            name=f"{label} {number}",
            input=case.input,
            expected=case.output,
            weight=case.weight,
            hidden=hidden,
            time_limit_ms=payload.time_limit_ms,
            memory_limit_mb=payload.memory_limit_mb,
        )
        for number, case in enumerate(cases, start=1)
    ]


def tests_for(payload: Coding, *, final: bool) -> list[TestSpec]:
    """Samples for a sample run; samples and hidden tests for grading."""
    tests = _specs(payload, payload.samples, "sample", hidden=False)
    if final:
        tests += _specs(payload, payload.hidden, "hidden", hidden=True)
    return tests


def build_request(payload: Coding, language: str, code: str, *, final: bool) -> RunRequest:
    return RunRequest(
        language=language,
        source=code,
        tests=tests_for(payload, final=final),
        checker=payload.checker,
    )


def refused(message: str) -> RunResult:
    """A run the judge refuses without running (a language the question does not offer):
    recorded like any verdict, so the examiner sees why the item earned nothing."""
    return RunResult(verdict=Verdict.COMPILE_ERROR, message=message)


def share_of(result: RunResult) -> float:
    """Marks in [0, 1]; a run refused before any test ran earns nothing."""
    return round(result.share, 6) if result.tests else 0.0


def candidate_view(results: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored run result as the candidate may see it: hidden tests reduced to their verdict,
    time and memory."""
    if results is None:
        return None
    shown = dict(results)
    shown["tests"] = [
        {key: test.get(key) for key in HIDDEN_FIELDS} if test.get("hidden") else dict(test)
        for test in results.get("tests", [])
    ]
    return shown


def with_expected(results: Mapping[str, Any] | None, payload: Coding, *, final: bool) -> Any:
    """Attach each visible test's input and expected output (the backend reports only what the
    program printed), so the page can show expected beside actual. Hidden tests get theirs only
    when ``final`` is set, which is the examiner's view."""
    if results is None:
        return None
    specs = {spec.name: spec for spec in tests_for(payload, final=True)}
    shaped = dict(results)
    tests = []
    for test in results.get("tests", []):
        spec = specs.get(str(test.get("name")))
        entry = dict(test)
        if spec is not None and (final or not spec.hidden):
            entry |= {"input": spec.input, "expected": spec.expected}
        tests.append(entry)
    shaped["tests"] = tests
    return shaped
