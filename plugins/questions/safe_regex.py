"""Regular expressions written by examiners, run against text typed by candidates.

Both sides are untrusted enough to matter: a pattern such as ``(a+)+$`` backtracks for years on a
short input, and the ``regex`` engine (which, unlike ``re``, can stop a match after a timeout)
expands counted repeats when compiling, so ``((a{1000}){1000}){1000}`` exhausts memory before
any input is seen. Patterns are therefore checked before they are compiled: Python ``re`` syntax
only, at most :data:`MAX_PATTERN` characters, and an expanded size (repeat counts multiplied
through their nesting) of at most :data:`MAX_COST`. Matching is ``fullmatch`` on inputs of at
most :data:`MAX_INPUT` characters with a :data:`TIMEOUT_S` timeout; a timeout is "no match".
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from re import _parser  # type: ignore[attr-defined]  # the stdlib's own parser, see _cost
from typing import Any

import regex

MAX_PATTERN = 500
MAX_INPUT = 500
MAX_COST = 2000
TIMEOUT_S = 0.1

log = logging.getLogger("invigilator.questions")

_REPEATS = {_parser.MAX_REPEAT, _parser.MIN_REPEAT, getattr(_parser, "POSSESSIVE_REPEAT", None)}


class UnsafePattern(ValueError):
    """The pattern is invalid, too long or too expensive to compile; the message says which."""


def check_pattern(pattern: str) -> None:
    """Raise :class:`UnsafePattern` unless ``pattern`` may be compiled and run by graders."""
    problem = _problem(pattern)
    if problem is not None:
        raise UnsafePattern(problem)


@lru_cache(maxsize=1024)
def _problem(pattern: str) -> str | None:
    """Why ``pattern`` is refused, or None; cached because grading checks before every run."""
    try:
        _check(pattern)
    except UnsafePattern as error:
        return str(error)
    return None


def _check(pattern: str) -> None:
    if len(pattern) > MAX_PATTERN:
        raise UnsafePattern(f"a pattern may have at most {MAX_PATTERN} characters")
    try:
        parsed = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        raise UnsafePattern(f"not a valid regular expression: {error}") from None
    if _cost(parsed) > MAX_COST:
        raise UnsafePattern(
            "the pattern's repeat counts are too large (keep {n} counts small; inputs are "
            f"at most {MAX_INPUT} characters)"
        )
    try:
        _compiled(pattern)
    except regex.error as error:
        raise UnsafePattern(f"not a valid regular expression: {error}") from None


def fullmatch(pattern: str, text: str, timeout: float = TIMEOUT_S) -> bool:
    """Whether all of ``text`` matches ``pattern``; unsafe patterns and timeouts never match.
    The engine checks the clock coarsely, so a hostile pattern may overrun ``timeout`` a few
    times over; callers running several patterns share one budget (see grading)."""
    if len(text) > MAX_INPUT or timeout <= 0:
        return False
    try:
        check_pattern(pattern)
        return _compiled(pattern).fullmatch(text, timeout=timeout) is not None
    except UnsafePattern:
        log.warning("refused to run an unsafe accepted-answer pattern")
        return False
    except TimeoutError:
        log.warning("an accepted-answer pattern timed out; counted as no match")
        return False


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    return regex.compile(pattern, regex.VERSION0)


def _cost(items: Any) -> int:
    """Size of the pattern once every counted repeat is expanded, as the ``regex`` engine
    does when it compiles; unbounded repeats count their minimum (they are loops, not copies).
    Stops early once over the cap so a hostile nesting cannot make this walk slow."""
    total = 0
    for op, value in items:
        if op in _REPEATS:
            low, high, sub = value
            count = high if high != _parser.MAXREPEAT else low
            total += max(count, 1) * _cost(sub)
        elif op is _parser.SUBPATTERN:
            total += _cost(value[-1])
        elif op is _parser.BRANCH:
            total += sum(_cost(branch) for branch in value[1])
        elif op in (_parser.ASSERT, _parser.ASSERT_NOT):
            total += _cost(value[1])
        elif op is getattr(_parser, "ATOMIC_GROUP", None):
            total += _cost(value)
        elif op is _parser.GROUPREF_EXISTS:
            total += _cost(value[1]) + (_cost(value[2]) if value[2] is not None else 0)
        else:
            total += 1
        if total > MAX_COST:
            return total
    return total
