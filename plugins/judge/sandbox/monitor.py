"""The small monitor that runs inside each sandbox and reports the program's resource usage.

Why it exists: with a pid namespace, bubblewrap's outer process learns the exit code from its
init through an event descriptor and exits without reaping it, so the resource usage of the
candidate's program never reaches the server's ``wait4``. The monitor (the system's python3,
started with ``-I -S``) forks, execs ``prlimit ... program`` in the child and waits for it.
It is a child subreaper, so processes the program orphaned (to compute where the program's own
usage would not show) are adopted by it; when the program ends it kills them all
(``kill(-1)`` spares only the sandbox's init and itself), reaps them, and writes the exit status
of the program and the CPU time and largest resident size of *all* of them
(``RUSAGE_CHILDREN``) as ``status utime stime maxrss`` to a pipe only it holds (close-on-exec,
so the program never inherits it). It marks itself non-dumpable, so the program — same uid,
no capabilities — cannot open ``/proc/<monitor>/fd`` to forge a report; ptrace is denied by the
seccomp filter. If the program kills the monitor, no report arrives and the run is a runtime
error; the limits themselves never depended on the monitor.
"""

from __future__ import annotations

from dataclasses import dataclass

MONITOR_CODE = """\
import os, sys, ctypes, resource
fd = int(sys.argv[1])
os.set_inheritable(fd, False)
libc = ctypes.CDLL(None)
libc.prctl(4, 0, 0, 0, 0)
libc.prctl(36, 1, 0, 0, 0)
os.write(fd, b"S\\n")
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    except OSError as error:
        os.write(2, ("cannot start the program: %s\\n" % error).encode())
    os._exit(127)
_, status, _ = os.wait4(pid, 0)
try:
    os.kill(-1, 9)
except OSError:
    pass
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
use = resource.getrusage(resource.RUSAGE_CHILDREN)
os.write(fd, ("%d %.6f %.6f %d\\n" % (status, use.ru_utime, use.ru_stime, use.ru_maxrss)).encode())
"""


def monitor_argv(python: str, report_fd: int) -> list[str]:
    return [python, "-I", "-S", "-B", "-c", MONITOR_CODE, str(report_fd)]


@dataclass(frozen=True)
class Report:
    """The monitor's line; ``parse_report`` answers None when it did not write one."""

    exit_code: int | None  # None when killed by a signal
    signal: int | None
    cpu_ms: int
    memory_kb: int


def monitor_started(raw: bytes) -> bool:
    """The monitor writes ``S`` first: without it the monitor never ran (a setup fault of the
    server, not something the program did)."""
    return raw.startswith(b"S\n")


def parse_report(raw: bytes) -> Report | None:
    """The monitor's final line, or None when it never wrote one (it was killed)."""
    lines = raw.decode("ascii", "replace").splitlines()
    if len(lines) != 2 or lines[0] != "S":
        return None
    parts = lines[1].split()
    if len(parts) != 4:
        return None
    try:
        status, memory = int(parts[0]), int(parts[3])
        cpu = float(parts[1]) + float(parts[2])
    except ValueError:
        return None
    if status & 0x7F == 0:  # WIFEXITED
        code, number = (status >> 8) & 0xFF, None
    else:
        code, number = None, status & 0x7F
    return Report(exit_code=code, signal=number, cpu_ms=int(cpu * 1000), memory_kb=memory)
