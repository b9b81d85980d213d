"""Making sure a sandbox is gone: its pid 1 found, waited for, killed if it lingers, reaped.

bubblewrap's outer process learns the program's end through an event descriptor and exits
without reaping the sandbox's init (pid 1 of its pid namespace), which is then orphaned. The
judge makes the server a child subreaper so that orphan is adopted and reaped here — in a
container whose pid 1 is the server, it would otherwise stay a zombie — and a slot (and its
uid) is handed out again only once that init, and with it every process of the namespace, is
gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal

PIPE_CHUNK = 65_536
PR_SET_CHILD_SUBREAPER = 36


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def init_pid_from_status(fd: int) -> int | None:
    """The host pid of the sandbox's init from bubblewrap's JSON status; None: never started."""
    os.lseek(fd, 0, os.SEEK_SET)
    raw = b""
    while chunk := os.read(fd, PIPE_CHUNK):
        raw += chunk
    child: int | None = None
    decoder = json.JSONDecoder()
    text, index = raw.decode("utf-8", "replace"), 0
    while index < len(text):
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        try:
            document, index = decoder.raw_decode(text, index)
        except ValueError:
            break
        if isinstance(document, dict) and isinstance(document.get("child-pid"), int):
            child = document["child-pid"]
    return child


def become_subreaper() -> bool:
    """Adopt orphaned descendants (PR_SET_CHILD_SUBREAPER), so the sandbox's pid 1 — orphaned
    when bubblewrap exits first — is reaped here instead of lingering as a zombie under an init
    that may not reap (a container whose pid 1 is the server itself)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _uid_of(pid: int) -> int | None:
    """The real uid of a host process (read from /proc, a kernel file, not the sandbox's)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            line = next(line for line in status if line.startswith("Uid:"))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1])


def _reap_adopted(pidfd: int) -> None:
    """Reap the exited sandbox init if it was reparented to us (we are its subreaper)."""
    with contextlib.suppress(ChildProcessError):
        os.waitid(os.P_PIDFD, pidfd, os.WEXITED | os.WNOHANG)


async def await_init_exit(pid: int, host_uid: int | None) -> None:
    """Wait until the sandbox's pid 1 is gone (it outlives bubblewrap by a moment), killing it
    if it lingers; its exit takes every other process of the pid namespace with it."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        expected = os.geteuid() if host_uid is None else host_uid
        if _uid_of(pid) != expected:
            return  # gone, or the pid was already reused by someone else: not ours to touch
        loop = asyncio.get_running_loop()
        gone: asyncio.Future[None] = loop.create_future()
        loop.add_reader(pidfd, _resolve, gone)
        try:
            try:
                await asyncio.wait_for(asyncio.shield(gone), 1)
            except TimeoutError:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                await asyncio.wait_for(gone, 5)
        finally:
            loop.remove_reader(pidfd)
        _reap_adopted(pidfd)
    finally:
        os.close(pidfd)
