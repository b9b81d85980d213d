"""The contract every judge backend keeps: what a run asks for and what it answers.

A backend (the local bubblewrap sandbox, Judge0, Sphere Engine, or a third party's through
``invigilator_judge_backends``) gets one :class:`RunRequest` — a language, the source and the
tests with their limits — and answers one :class:`RunResult` with a verdict and the time and
memory of every test. Comparing output (``checker``) and computing marks happen here, outside
the backend, so every backend grades alike; a backend that compares on its side (Sphere
Engine) still reports per-test verdicts in these terms.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    WRONG_ANSWER = "wrong_answer"
    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    RUNTIME_ERROR = "runtime_error"
    COMPILE_ERROR = "compile_error"
    OUTPUT_LIMIT = "output_limit"  # shown as a runtime error with its reason; kept distinct
    INTERNAL_ERROR = "internal_error"


Checker = Literal["exact", "whitespace", "float"]


class TestSpec(BaseModel):
    """One test case as the backend runs it."""

    model_config = ConfigDict(frozen=True)
    __test__ = False  # not a pytest class

    name: str = Field(description="'sample 1', 'hidden 3': how results refer to it")
    input: str = ""
    expected: str = ""
    weight: float = Field(1.0, gt=0)
    hidden: bool = False
    time_limit_ms: int = Field(2000, ge=50, le=60_000)
    memory_limit_mb: int = Field(256, ge=16, le=4096)


class RunRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    language: str = Field(description="a name from the backend's languages(): python, c, ...")
    source: str = Field(max_length=200_000)
    tests: list[TestSpec] = Field(min_length=1, max_length=250)
    checker: Checker = "whitespace"
    float_tolerance: float = Field(1e-6, gt=0)


class TestResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    __test__ = False

    name: str
    verdict: Verdict
    time_ms: int | None = None
    memory_kb: int | None = None
    weight: float = 1.0
    hidden: bool = False
    stdout: str = Field("", description="the start of the output (never sent for hidden tests)")
    stderr: str = Field("", description="the start of standard error, same rule")
    message: str = Field("", description="why, in words: 'killed after 2.0 s of CPU time'")


class RunResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict = Field(description="accepted only when every test is; else the first bad")
    tests: list[TestResult] = Field(default_factory=list)
    compile_output: str = ""
    message: str = ""

    @property
    def share(self) -> float:
        """Marks: the weighted share of tests passed, in [0, 1]."""
        total = sum(test.weight for test in self.tests)
        if total <= 0:
            return 0.0
        passed = sum(t.weight for t in self.tests if t.verdict is Verdict.ACCEPTED)
        return passed / total


class Language(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(description="the id used in questions: python, c, cpp, javascript")
    label: str = Field(description="what the language picker shows: 'Python 3.11'")
    editor_mode: str = Field("", description="syntax-highlighting mode for the editor")


class JudgeBackend(Protocol):
    """What ``[judge] backend`` names. Implementations must be safe to call concurrently."""

    name: str

    def languages(self) -> list[Language]: ...

    async def run(self, request: RunRequest) -> RunResult:
        """Compile once, run every test; never raises for the candidate's faults (those are
        verdicts). Raises ``JudgeUnavailable`` when the backend itself cannot be reached."""
        ...

    async def close(self) -> None: ...


class JudgeUnavailable(Exception):
    """The backend could not judge (service down, sandbox tool missing): retry later."""
