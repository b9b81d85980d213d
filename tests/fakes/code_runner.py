"""Really run a test program for the fake judging services, with rlimits like theirs.

Test-only and deliberately plain: an allow-list of two languages (Python, C via the system
gcc), ``prlimit`` for CPU seconds, address space and output file size (what isolate's ``-t``,
``-m`` and ``-f`` set in Judge0), a wall-clock timer, and ``wait4`` for the CPU time and peak
memory the services report. Only code written by the tests goes through it.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("python", "c")
WALL_FLOOR_SECONDS = 30.0

# A child forked straight from the test process would report the test process's own size as
# its peak memory (Linux keeps the high-water mark of the memory image a process had before
# it exec'd), so a small launcher forks the program and reports the program's own usage over
# a pipe: "<wait status> <cpu seconds> <peak kB>".
LAUNCHER = """
import os, sys
report, argv = int(sys.argv[1]), sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
os.write(report, f"{status} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}".encode())
"""


@dataclass(frozen=True)
class Outcome:
    compiled: bool
    compile_output: bytes = b""
    exit_code: int | None = None
    exit_signal: int | None = None
    timed_out: bool = False
    stdout: bytes = b""
    stderr: bytes = b""
    cpu_seconds: float = 0.0
    memory_kb: int = 0


def run_program(
    language: str,
    source: bytes,
    stdin: bytes,
    *,
    cpu_seconds: float,
    wall_seconds: float,
    memory_kb: int,
    file_size_kb: int = 1024,
) -> Outcome:
    """Compile if needed, run once, report what happened. Blocking: call it in a thread."""
    if language not in LANGUAGES:
        raise ValueError(f"the fake runner does not run {language!r}")
    with tempfile.TemporaryDirectory(prefix="fake-judge-") as tmp:
        work = Path(tmp)
        if language == "c":
            (work / "main.c").write_bytes(source)
            build = subprocess.run(
                [shutil.which("gcc") or "gcc", "-O2", "-o", "main", "main.c", "-lm"],
                cwd=work,
                capture_output=True,
                timeout=60,
                check=False,
            )
            if build.returncode != 0:
                return Outcome(compiled=False, compile_output=build.stdout + build.stderr)
            command = [str(work / "main")]
        else:
            (work / "main.py").write_bytes(source)
            command = [sys.executable, "-I", "-S", str(work / "main.py")]
        return _execute(command, work, stdin, cpu_seconds, wall_seconds, memory_kb, file_size_kb)


def _execute(
    command: list[str],
    work: Path,
    stdin: bytes,
    cpu_seconds: float,
    wall_seconds: float,
    memory_kb: int,
    file_size_kb: int,
) -> Outcome:
    soft = max(1, math.ceil(cpu_seconds))
    limits = [
        f"--cpu={soft}:{soft + 1}",  # SIGXCPU at the soft limit, SIGKILL a second later
        f"--as={memory_kb * 1024}",
        f"--fsize={file_size_kb * 1024}",
    ]
    (work / "stdin").write_bytes(stdin)
    with (
        open(work / "stdin", "rb") as fin,
        open(work / "stdout", "wb") as fout,
        open(work / "stderr", "wb") as ferr,
    ):
        read_end, write_end = os.pipe()
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(write_end)]
        proc = subprocess.Popen(
            [*launcher, "prlimit", *limits, "--", *command],
            stdin=fin,
            stdout=fout,
            stderr=ferr,
            cwd=work,
            start_new_session=True,
            pass_fds=(write_end,),
        )
        os.close(write_end)
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    # The wall clock only catches a program that sleeps or blocks; CPU time decides the time
    # limit. The tests share a busy machine, so a slow start must not read as a timeout.
    timer = threading.Timer(max(wall_seconds, WALL_FLOOR_SECONDS), kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = 0  # reaped by wait4; keep Popen from waiting again
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read().split()
    cpu, peak_kb = usage.ru_utime + usage.ru_stime, 0
    if len(report) == 3:  # the launcher saw the program end (it was not killed with it)
        status, cpu, peak_kb = int(report[0]), float(report[1]), int(report[2])
    exit_signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    timed_out = killed.is_set() or exit_signal == signal.SIGXCPU or cpu > cpu_seconds
    if timed_out and exit_signal is None and os.WIFEXITED(status):
        timed_out = cpu > cpu_seconds  # finished, but used more CPU than allowed
    return Outcome(
        compiled=True,
        exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        exit_signal=exit_signal,
        timed_out=timed_out,
        stdout=(work / "stdout").read_bytes(),
        stderr=(work / "stderr").read_bytes(),
        cpu_seconds=round(cpu, 3),
        memory_kb=peak_kb,
    )
