"""The bubblewrap command line of one sandbox: namespaces, mounts, identity, environment, limits.

What the sandbox sees: read-only ``/usr`` and the merged-/usr symlinks, ``/etc/alternatives``
and the dynamic linker's cache; a fresh ``/proc`` of its own pid namespace; bubblewrap's
minimal ``/dev`` (null, zero, random, urandom, tty) made read-only; a size-capped tmpfs ``/box``
(the work folder and the current directory) that ``/tmp`` points to. The root is a tmpfs
remounted read-only, so nothing outside ``/box`` can be written. Not mounted, ever: the project,
its virtualenv, ``/root``, ``/home``, ``/var``, the rest of ``/etc``.

Files go in through file descriptors (``--file FD /box/main.c``): bubblewrap copies the bytes
into the tmpfs, the host never names a path the program could have replaced by a symlink.

Limits are set by ``prlimit`` inside the sandbox, in the process that then execs the program,
so they bind the candidate's code and not bubblewrap or the server.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field

from plugins.judge.sandbox.config import LocalSandboxConfig
from plugins.judge.sandbox.monitor import monitor_argv

WORK_DIR = "/box"
HOSTNAME = "judge"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one sandboxed process may use; every value is enforced by the kernel."""

    cpu_ms: int
    address_space_mb: int
    processes: int
    file_mb: int
    open_files: int
    stack_mb: int

    def prlimit_argv(self) -> list[str]:
        cpu_s = -(-self.cpu_ms // 1000) + 1  # whole seconds, rounded up, plus a margin
        space = self.address_space_mb * MIB
        stack = min(self.stack_mb, self.address_space_mb) * MIB
        return [
            "/usr/bin/prlimit",
            f"--cpu={cpu_s}:{cpu_s + 1}",
            f"--as={space}:{space}",
            f"--nproc={self.processes}:{self.processes}",
            f"--fsize={self.file_mb * MIB}:{self.file_mb * MIB}",
            f"--nofile={self.open_files}:{self.open_files}",
            f"--stack={stack}:{stack}",
            "--core=0:0",
            "--",
        ]


@dataclass(frozen=True)
class Inject:
    """A file bubblewrap copies into the work folder from an open descriptor."""

    fd: int
    name: str
    mode: str = "0644"


@dataclass
class SandboxCommand:
    """Everything the supervisor needs to start one sandbox."""

    argv: list[str]
    pass_fds: list[int] = field(default_factory=list)


def _mount_args(config: LocalSandboxConfig) -> list[str]:
    args: list[str] = []
    for path in config.ro_binds:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in config.ro_files:
        if os.path.isfile(path) and not os.path.islink(path):
            args += ["--ro-bind", path, path]
    return args


def build_command(
    config: LocalSandboxConfig,
    *,
    bwrap: str,
    inner_uid: int,
    report_fd: int,
    program: list[str],
    limits: Limits,
    injects: list[Inject],
    status_fd: int,
    seccomp_fd: int | None,
) -> SandboxCommand:
    """The argv that starts bubblewrap; the program sees itself as ``inner_uid``."""
    argv = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--uid",
        str(inner_uid),
        "--gid",
        str(inner_uid),
        "--hostname",
        HOSTNAME,
        *_mount_args(config),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--remount-ro",
        "/dev",
        "--size",
        str(config.work_dir_mb * MIB),
        "--tmpfs",
        WORK_DIR,
        "--symlink",
        WORK_DIR,
        "/tmp",  # noqa: S108 (inside the sandbox: a link to its own work folder)
    ]
    pass_fds = [status_fd, report_fd]  # the report pipe is inherited by the monitor only
    for inject in injects:
        argv += ["--perms", inject.mode, "--file", str(inject.fd), f"{WORK_DIR}/{inject.name}"]
        pass_fds.append(inject.fd)
    argv += [
        "--remount-ro",
        "/",
        "--chdir",
        WORK_DIR,
        "--clearenv",
        "--setenv",
        "PATH",
        "/usr/local/bin:/usr/bin:/bin",
        "--setenv",
        "HOME",
        WORK_DIR,
        "--setenv",
        "TMPDIR",
        "/tmp",  # noqa: S108 (the sandbox's own)
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--json-status-fd",
        str(status_fd),
    ]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
        pass_fds.append(seccomp_fd)
    monitor = monitor_argv(config.monitor_python, report_fd)
    argv += ["--", *monitor, *limits.prlimit_argv(), *program]
    return SandboxCommand(argv=argv, pass_fds=pass_fds)


def sealed_memfd(name: str, data: bytes) -> int:
    """A read-only in-memory file holding ``data``, positioned at its start (close it after)."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        fcntl.fcntl(
            fd,
            fcntl.F_ADD_SEALS,
            fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE,
        )
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd
