"""From a coding payload to a run request, and results as each person may see them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from plugins.judge.backend import RunResult, TestResult, Verdict
from plugins.judge.config import JudgeConfig
from plugins.judge.service import (
    build_request,
    candidate_view,
    code_hash,
    coding_payload,
    share_of,
    with_expected,
)
from tests.judge.support import PAYLOAD, SECRET_INPUT, SECRET_OUTPUT

CODING = coding_payload(PAYLOAD)


def test_a_sample_run_runs_only_samples_with_the_questions_limits() -> None:
    request = build_request(CODING, "python", "print(3)", final=False)
    assert [t.name for t in request.tests] == ["sample 1", "sample 2"]
    assert {(t.time_limit_ms, t.memory_limit_mb, t.hidden) for t in request.tests} == {
        (2000, 64, False)
    }
    assert request.checker == "whitespace"


def test_grading_runs_samples_and_hidden_tests_with_their_weights() -> None:
    request = build_request(CODING, "python", "print(3)", final=True)
    assert [(t.name, t.hidden, t.weight) for t in request.tests] == [
        ("sample 1", False, 1.0),
        ("sample 2", False, 1.0),
        ("hidden 1", True, 2.0),
    ]
    assert request.tests[2].expected == SECRET_OUTPUT


def test_the_same_text_in_another_language_is_another_program() -> None:
    assert code_hash("python", "x") != code_hash("javascript", "x")
    assert code_hash("python", "x") == code_hash("python", "x")


def _result() -> RunResult:
    tests = [
        TestResult(name="sample 1", verdict=Verdict.ACCEPTED, time_ms=5, stdout="3\n"),
        TestResult(name="sample 2", verdict=Verdict.WRONG_ANSWER, time_ms=6, stdout="5\n"),
        TestResult(
            name="hidden 1",
            verdict=Verdict.WRONG_ANSWER,
            time_ms=7,
            memory_kb=900,
            weight=2,
            hidden=True,
            stdout="leaked?",
            stderr="secret trace",
            message="line 3",
        ),
    ]
    return RunResult(verdict=Verdict.WRONG_ANSWER, tests=tests)


def test_hidden_tests_reach_the_candidate_only_as_verdict_time_and_memory() -> None:
    stored = _result().model_dump(mode="json")
    shown = candidate_view(with_expected(stored, CODING, final=False))
    assert shown is not None
    sample, _, hidden = shown["tests"]
    assert (sample["input"], sample["expected"], sample["stdout"]) == ("1 2\n", "3\n", "3\n")
    assert hidden == {
        "name": "hidden 1",
        "verdict": "wrong_answer",
        "time_ms": 7,
        "memory_kb": 900,
        "weight": 2.0,
        "hidden": True,
    }
    assert SECRET_OUTPUT not in str(shown)
    assert SECRET_INPUT.strip() not in str(shown)
    assert "secret trace" not in str(shown)


def test_the_examiner_sees_hidden_tests_whole() -> None:
    shown = with_expected(_result().model_dump(mode="json"), CODING, final=True)
    hidden = shown["tests"][2]
    assert (hidden["expected"], hidden["stderr"], hidden["hidden"]) == (
        SECRET_OUTPUT,
        "secret trace",
        True,
    )


def test_marks_are_the_weighted_share_and_nothing_for_a_refused_run() -> None:
    assert share_of(_result()) == pytest.approx(1 / 4)
    assert share_of(RunResult(verdict=Verdict.COMPILE_ERROR)) == 0.0


def test_config_rejects_bad_values_and_unknown_fields() -> None:
    assert JudgeConfig().backend == "local"
    with pytest.raises(ValidationError):
        JudgeConfig(runs_per_minute=0)
    with pytest.raises(ValidationError):
        JudgeConfig.model_validate({"backnd": "local"})
    with pytest.raises(ValidationError, match=r"\[judge.judge0\] urll"):  # the chosen backend's
        JudgeConfig.model_validate({"backend": "judge0", "judge0": {"urll": "x"}})
    JudgeConfig.model_validate({"backend": "local", "judge0": {"urll": "x"}})  # not read
