"""Comparing a program's output with the expected output, the same way for every backend.

Pure functions, no I/O: the judge compares here so that a test graded by the local sandbox and
the same test graded by Judge0 get the same verdict. Three rules, named in ``RunRequest.checker``:

- ``exact``: byte-for-byte, except that a missing or extra newline at the very end and Windows
  line endings are forgiven (editors and platforms disagree on those, candidates cannot see it).
- ``whitespace``: the outputs split into the same tokens (any run of spaces, tabs and newlines
  separates), the rule most judges use by default.
- ``float``: tokens compared one by one; two tokens that both read as numbers match when they are
  within the tolerance, absolute or relative (so ``1e9`` vs ``1.000000001e9`` passes at 1e-6);
  other tokens must match exactly.
"""

from __future__ import annotations

import math

from plugins.judge.backend import Checker


def _normalise_lines(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


def exact_match(expected: str, actual: str) -> bool:
    """True when the outputs are the same apart from line endings and trailing newlines."""
    return _normalise_lines(expected) == _normalise_lines(actual)


def whitespace_match(expected: str, actual: str) -> bool:
    """True when the outputs have the same whitespace-separated tokens."""
    return expected.split() == actual.split()


def _as_number(token: str) -> float | None:
    try:
        value = float(token)
    except ValueError:
        return None
    return value


def numbers_close(expected: float, actual: float, tolerance: float) -> bool:
    """Absolute or relative closeness; NaN only matches NaN, infinities only themselves."""
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if math.isinf(expected) or math.isinf(actual):
        return expected == actual
    difference = abs(expected - actual)
    return difference <= tolerance or difference <= tolerance * abs(expected)


def float_match(expected: str, actual: str, tolerance: float) -> bool:
    """True when every token matches: numbers within ``tolerance``, words exactly."""
    want, got = expected.split(), actual.split()
    if len(want) != len(got):
        return False
    for left, right in zip(want, got, strict=True):
        if left == right:
            continue
        left_number, right_number = _as_number(left), _as_number(right)
        if left_number is None or right_number is None:
            return False
        if not numbers_close(left_number, right_number, tolerance):
            return False
    return True


def outputs_match(expected: str, actual: str, checker: Checker, tolerance: float = 1e-6) -> bool:
    """Dispatch on the checker name a problem chose."""
    if checker == "exact":
        return exact_match(expected, actual)
    if checker == "whitespace":
        return whitespace_match(expected, actual)
    if checker == "float":
        return float_match(expected, actual, tolerance)
    raise ValueError(f"unknown checker {checker!r}")
