"""Starting one sandbox, feeding it, reading it back through pipes, and ending it for sure.

The host's only channels from the sandbox are the standard output and error pipes (capped:
past the cap the sandbox is killed, so a huge output costs the server no memory), the
monitor's report pipe, and bubblewrap's JSON status descriptor (proof that the sandbox started,
and the host pid of its init). Nothing is read back from the work folder.

Ending: bubblewrap runs in its own session, with ``--die-with-parent`` on its child. On the
wall-clock limit or the output cap the supervisor SIGKILLs bubblewrap; its child (pid 1 of the
sandbox's pid namespace) then gets SIGKILL from the kernel, and when pid 1 of a pid namespace
dies the kernel kills every other process in it, double-forked daemons included. The init
itself is waited for and reaped before the slot is free again (``reaper.py``).

Measuring: the in-sandbox monitor (``monitor.py``) reports the program's exit status, CPU time
and largest resident size on a pipe of its own. The supervisor reaps bubblewrap itself through
a pidfd, so the event loop never blocks and no child watcher is involved.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from plugins.judge.sandbox.command import SandboxCommand
from plugins.judge.sandbox.monitor import monitor_started, parse_report
from plugins.judge.sandbox.reaper import await_init_exit, init_pid_from_status

PIPE_CHUNK = 65_536


@dataclass
class Outcome:
    """What a sandboxed run did, as the host observed it."""

    started: bool  # bubblewrap set the sandbox up and started its command
    monitor_ran: bool  # the in-sandbox monitor started (False: a server-side setup fault)
    reported: bool  # the monitor reported the program's end (False: it was killed)
    exit_code: int | None  # the program's; None when a signal ended it or nothing was reported
    signal: int | None
    cpu_ms: int
    memory_kb: int
    wall_ms: int
    stdout: bytes
    stderr: bytes
    stdout_overflow: bool
    wall_timeout: bool
    setup_error: str = ""


class _Sink:
    """Reads one pipe to EOF, keeping at most ``cap`` bytes."""

    def __init__(self, fd: int, cap: int, on_overflow: Callable[[], None] | None) -> None:
        self.fd, self.cap = fd, cap
        self.on_overflow = on_overflow
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        os.set_blocking(fd, False)
        asyncio.get_running_loop().add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, PIPE_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        room = self.cap - self.size
        if room > 0:
            self.chunks.append(data[:room])
        self.size += len(data)
        if self.size > self.cap and not self.overflow:
            self.overflow = True
            if self.on_overflow is not None:
                self.on_overflow()

    def close(self) -> None:
        if self.fd >= 0:
            asyncio.get_running_loop().remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1
        if not self.done.done():
            self.done.set_result(None)

    def data(self) -> bytes:
        return b"".join(self.chunks)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _spawn(
    command: SandboxCommand, stdin_fd: int, out: int, err: int, host_uid: int | None
) -> subprocess.Popen[bytes]:
    """Start bubblewrap in a session of its own, as ``host_uid`` when given (root only), with
    an empty environment and no descriptor but the ones named."""
    return subprocess.Popen(  # noqa: S603 (argv built by command.py, no shell)
        command.argv,
        stdin=stdin_fd,
        stdout=out,
        stderr=err,
        pass_fds=command.pass_fds,
        start_new_session=True,
        cwd="/",
        env={},
        user=host_uid,
        group=host_uid,
        extra_groups=None if host_uid is None else [],
    )


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Collect bubblewrap (already exited or SIGKILLed, so this does not wait long)."""
    with contextlib.suppress(ChildProcessError):
        _, status, _ = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode is None:
        process.returncode = -signal.SIGKILL


async def supervise(
    command: SandboxCommand,
    *,
    status_fd: int,
    report_read: int,
    report_write: int,
    stdin_fd: int,
    host_uid: int | None,
    wall_ms: int,
    stdout_cap: int,
    stderr_cap: int,
) -> Outcome:
    """Run the sandbox to its end and report; never leaves a process behind."""
    loop = asyncio.get_running_loop()
    out_read, out_write = os.pipe2(os.O_CLOEXEC)
    err_read, err_write = os.pipe2(os.O_CLOEXEC)
    began = time.monotonic()
    try:
        process = _spawn(command, stdin_fd, out_write, err_write, host_uid)
    except OSError as error:
        for fd in (out_read, out_write, err_read, err_write, report_read, report_write):
            os.close(fd)
        return Outcome(
            False,
            False,
            False,
            None,
            None,
            0,
            0,
            0,
            b"",
            b"",
            False,
            False,
            f"cannot start: {error}",
        )
    for fd in (out_write, err_write, report_write):
        os.close(fd)

    def kill() -> None:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    stdout = _Sink(out_read, stdout_cap, kill)
    stderr = _Sink(err_read, stderr_cap, None)
    report = _Sink(report_read, 4096, None)
    pidfd = os.pidfd_open(process.pid)
    exited: asyncio.Future[None] = loop.create_future()
    loop.add_reader(pidfd, _resolve, exited)
    wall_timeout = False
    try:
        try:
            await asyncio.wait_for(asyncio.shield(exited), wall_ms / 1000)
        except TimeoutError:
            wall_timeout = True
            kill()
            await exited
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
        kill()  # a no-op unless cancelled: then make sure nothing survives
        _reap(process)
        # Every writer is dead once bubblewrap's pid namespace is gone; this returns at once.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(stdout.done, stderr.done, report.done), 5)
        for sink in (stdout, stderr, report):
            sink.close()
    wall = int((time.monotonic() - began) * 1000)
    init_pid = init_pid_from_status(status_fd)
    started = init_pid is not None
    if init_pid is not None:
        with contextlib.suppress(TimeoutError, ProcessLookupError):
            await await_init_exit(init_pid, host_uid)
    measured = parse_report(report.data())
    setup_error = stderr.data().decode("utf-8", "replace")[:2000]
    return Outcome(
        started=started,
        monitor_ran=monitor_started(report.data()),
        reported=measured is not None,
        exit_code=measured.exit_code if measured else None,
        signal=measured.signal if measured else None,
        cpu_ms=measured.cpu_ms if measured else 0,
        memory_kb=measured.memory_kb if measured else 0,
        wall_ms=wall,
        stdout=stdout.data(),
        stderr=stderr.data(),
        stdout_overflow=stdout.overflow,
        wall_timeout=wall_timeout,
        setup_error=setup_error,
    )
