"""The output comparison rules every backend's results go through."""

from __future__ import annotations

import math

import pytest

from plugins.judge.checker import (
    exact_match,
    float_match,
    numbers_close,
    outputs_match,
    whitespace_match,
)


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        ("1 2\n3\n", "1 2\n3\n", True),
        ("1 2\n3\n", "1 2\n3", True),  # trailing newline forgiven
        ("1 2\n3\n", "1 2\r\n3\r\n", True),  # Windows line endings forgiven
        ("1 2\n3\n", "1  2\n3\n", False),
        ("1 2\n3\n", "1 2 \n3\n", False),
        ("a\n\nb", "a\nb", False),
        ("", "\n", True),
    ],
)
def test_exact(expected: str, actual: str, same: bool) -> None:
    assert exact_match(expected, actual) is same


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        ("1 2\n3\n", "1   2 3", True),
        ("1 2 3", "\t1\n2\n\n3   \n", True),
        ("1 2 3", "1 2", False),
        ("1 2 3", "1 2 3 4", False),
        ("abc", "ABC", False),
        ("", "   \n", True),
    ],
)
def test_whitespace(expected: str, actual: str, same: bool) -> None:
    assert whitespace_match(expected, actual) is same


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        ("0.3333333", "0.333333333", True),
        ("0.333", "0.334", False),
        ("1e9", "1000000001", True),  # relative: 1e-9 off
        ("1e9", "1000010000", False),
        ("0", "0.0000001", True),  # absolute
        ("YES 1.5", "YES 1.5000001", True),
        ("YES 1.5", "NO 1.5", False),  # words are exact
        ("1.5 2.5", "1.5", False),
        ("nan", "nan", True),
        ("nan", "1", False),
        ("inf", "inf", True),
        ("inf", "1e308", False),
        ("-0.0", "0", True),
    ],
)
def test_float(expected: str, actual: str, same: bool) -> None:
    assert float_match(expected, actual, 1e-6) is same


def test_numbers_close_edges() -> None:
    assert numbers_close(100.0, 100.00005, 1e-6)  # relative 5e-7
    assert not numbers_close(1.0, 1.1, 1e-6)
    assert not numbers_close(math.inf, -math.inf, 1.0)


def test_dispatch_and_unknown_checker() -> None:
    assert outputs_match("1 2", "1\n2", "whitespace")
    assert not outputs_match("1 2", "1\n2", "exact")
    assert outputs_match("0.5", "0.50000001", "float", 1e-6)
    with pytest.raises(ValueError, match="unknown checker"):
        outputs_match("1", "1", "fuzzy")  # type: ignore[arg-type]
