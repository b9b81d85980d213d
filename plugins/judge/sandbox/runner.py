"""Starting one sandbox: the in-memory files it gets, a slot (and uid), the command, supervision.

Every descriptor made here is closed here, whatever happens; the report pipe's two ends belong
to ``supervise`` once it is called.
"""

from __future__ import annotations

import os

from plugins.judge.sandbox.command import Inject, Limits, build_command, sealed_memfd
from plugins.judge.sandbox.config import LocalSandboxConfig
from plugins.judge.sandbox.process import Outcome, supervise
from plugins.judge.sandbox.slots import SlotPool


async def start_sandbox(
    config: LocalSandboxConfig,
    argv: list[str],
    limits: Limits,
    *,
    bwrap: str,
    seccomp: bytes | None,
    slots: SlotPool,
    files: list[tuple[bytes, str, str]],
    stdin: bytes,
    stdout_cap: int,
    stderr_cap: int,
    wall_ms: int | None,
) -> Outcome:
    """Run ``argv`` (with its limits) in a fresh sandbox holding ``files``; wait for a slot."""
    fds: list[int] = []
    try:
        injects = []
        for data, name, mode in files:
            fds.append(sealed_memfd(name, data))
            injects.append(Inject(fds[-1], name, mode))
        fds.append(status_fd := os.memfd_create("status", os.MFD_CLOEXEC))
        fds.append(stdin_fd := sealed_memfd("stdin", stdin))
        seccomp_fd = None
        if seccomp is not None:
            fds.append(seccomp_fd := sealed_memfd("seccomp", seccomp))
        async with slots.take() as slot:
            # supervise() owns (and closes) both ends of the monitor's report pipe
            report_read, report_write = os.pipe2(os.O_CLOEXEC)
            command = build_command(
                config,
                bwrap=bwrap,
                inner_uid=slot.inner_uid,
                report_fd=report_write,
                program=argv,
                limits=limits,
                injects=injects,
                status_fd=status_fd,
                seccomp_fd=seccomp_fd,
            )
            return await supervise(
                command,
                status_fd=status_fd,
                report_read=report_read,
                report_write=report_write,
                stdin_fd=stdin_fd,
                host_uid=slot.host_uid,
                wall_ms=wall_ms or limits.cpu_ms * 2 + config.wall_extra_ms,
                stdout_cap=stdout_cap,
                stderr_cap=stderr_cap,
            )
    finally:
        for fd in fds:
            os.close(fd)
