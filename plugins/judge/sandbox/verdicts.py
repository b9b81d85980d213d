"""Turning what a sandboxed test run did into a verdict and a sentence a candidate understands.

The order matters: a run killed for its output is an output limit even if it also ran long; a
run over its CPU time is a time limit even if it then crashed. Memory has no single signal
without cgroups, so it is recognised three ways (documented in docs/judge.md):

1. the largest resident size (``ru_maxrss``) exceeded the limit;
2. the program failed and its standard error carries a runtime's out-of-memory message
   (Python ``MemoryError``, C++ ``std::bad_alloc``, node's heap limit, ``Cannot allocate
   memory``): RLIMIT_AS made an allocation fail;
3. nothing else: a C program that ignores a failed ``malloc`` and crashes is a runtime error
   (signal 11) — the message says so, which is what the candidate needs to know.
"""

from __future__ import annotations

import signal

from plugins.judge.backend import Verdict
from plugins.judge.sandbox.process import Outcome

OUT_OF_MEMORY_MARKERS = (
    "MemoryError",
    "std::bad_alloc",
    "JavaScript heap out of memory",
    "Fatal process out of memory",
    "Fatal process OOM",
    "Cannot allocate memory",
    "out of memory",
)

SIGNAL_HINTS = {
    signal.SIGSEGV: "segmentation fault: a bad pointer, an index out of range or a stack "
    "overflow from deep recursion",
    signal.SIGFPE: "arithmetic error, e.g. division by zero",
    signal.SIGABRT: "aborted, e.g. a failed assertion or an uncaught C++ exception",
    signal.SIGBUS: "bus error",
    signal.SIGILL: "illegal instruction",
    signal.SIGXFSZ: "wrote a file larger than allowed",
    signal.SIGKILL: "killed",
}


def describe_signal(number: int) -> str:
    try:
        known = signal.Signals(number)
    except ValueError:
        return f"killed by signal {number}"
    hint = SIGNAL_HINTS.get(known)
    return f"killed by {known.name} ({hint})" if hint else f"killed by {known.name}"


def classify(
    outcome: Outcome, *, time_limit_ms: int, memory_limit_mb: int, output_limit_kb: int
) -> tuple[Verdict | None, str]:
    """(verdict, message); verdict None means the run ended cleanly: compare its output."""
    if not outcome.started or not outcome.monitor_ran:  # LocalJudge raises before this
        return Verdict.INTERNAL_ERROR, f"the sandbox did not start: {outcome.setup_error}".strip()
    if outcome.stdout_overflow:
        return Verdict.OUTPUT_LIMIT, f"printed more than {output_limit_kb} KiB"
    code, number = outcome.exit_code, outcome.signal
    if outcome.cpu_ms > time_limit_ms or number == signal.SIGXCPU:
        return (
            Verdict.TIME_LIMIT,
            f"used {outcome.cpu_ms / 1000:.2f} s of CPU time (limit {time_limit_ms / 1000:g} s)",
        )
    if outcome.wall_timeout:
        return (
            Verdict.TIME_LIMIT,
            f"killed after {outcome.wall_ms / 1000:.1f} s of wall-clock time (sleeping, "
            "waiting for input that never comes, or running too long)",
        )
    if outcome.memory_kb > memory_limit_mb * 1024:
        return (
            Verdict.MEMORY_LIMIT,
            f"used {outcome.memory_kb // 1024} MiB of memory (limit {memory_limit_mb} MiB)",
        )
    if not outcome.reported:
        return Verdict.RUNTIME_ERROR, "the program stopped the sandbox's monitor"
    if code == 0:
        return None, ""
    errors = outcome.stderr.decode("utf-8", "replace")
    if any(marker in errors for marker in OUT_OF_MEMORY_MARKERS):
        return (
            Verdict.MEMORY_LIMIT,
            f"ran out of memory (limit {memory_limit_mb} MiB): an allocation failed",
        )
    if number == signal.SIGXFSZ:
        return Verdict.OUTPUT_LIMIT, "wrote a file larger than allowed"
    if number is not None:
        return Verdict.RUNTIME_ERROR, describe_signal(number)
    return Verdict.RUNTIME_ERROR, f"exited with code {code}"
