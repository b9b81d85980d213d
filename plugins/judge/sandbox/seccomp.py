"""A seccomp filter for the sandbox, compiled with the system's libseccomp through ctypes.

bubblewrap already removes capabilities and puts the program in fresh namespaces; the filter
closes the kernel interfaces that escapes and privilege escalations have used and that no
exercise needs: tracing other processes, mounting, new namespaces, keyrings, BPF, perf events,
userfaultfd, io_uring, kernel modules, ``personality`` (beyond querying it). They fail with
EPERM (the program sees an ordinary error, not a crash). ``clone3`` answers ENOSYS so the C
library falls back to ``clone``, whose flags a filter can inspect (clone3 passes them in memory);
``clone`` with any namespace flag fails. Other architectures' system calls (x32, i386 via
``int 0x80``) are killed by libseccomp's default bad-arch action.

The filter is exported as classic BPF once and handed to ``bwrap --seccomp FD`` for every run.
When libseccomp cannot be loaded, :func:`build_filter` returns None and the caller reports
"seccomp: off".
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os

log = logging.getLogger(__name__)

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_MASKED_EQ = 7
SCMP_CMP_NE = 1

CLONE_NAMESPACE_FLAGS = (
    0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
)

DENIED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "iopl",
    "ioperm",
    "swapon",
    "swapoff",
    "reboot",
    "syslog",
    "acct",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "open_by_handle_at",
    "name_to_handle_at",
    "lookup_dcookie",
    "quotactl",
    "kcmp",
    "fanotify_init",
    "pidfd_getfd",
    "uselib",
    "vhangup",
    "chroot",
)


class _ScmpArg(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0x0000FFFF)  # SCMP_ACT_ERRNO(code)


def _load() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ScmpArg),
    ]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def _add(lib: ctypes.CDLL, ctx: int, action: int, name: str, *args: _ScmpArg) -> None:
    number = lib.seccomp_syscall_resolve_name(name.encode())
    if number < 0:  # not on this architecture (e.g. iopl on arm64)
        return
    array = (_ScmpArg * max(len(args), 1))(*args)
    rc = lib.seccomp_rule_add_array(ctx, action, number, len(args), array)
    if rc < 0:
        raise OSError(-rc, f"seccomp_rule_add({name}) failed: {os.strerror(-rc)}")


def build_filter() -> bytes | None:
    """The compiled BPF program, or None when libseccomp is not available."""
    lib = _load()
    if lib is None:
        log.warning("libseccomp not found: the judge sandbox runs without a seccomp filter")
        return None
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        log.warning("seccomp_init failed: the judge sandbox runs without a seccomp filter")
        return None
    try:
        deny = _errno_action(errno.EPERM)
        for name in DENIED:
            _add(lib, ctx, deny, name)
        _add(lib, ctx, _errno_action(errno.ENOSYS), "clone3")
        for bit in range(64):  # one rule per namespace flag: rules on one syscall are OR-ed
            flag = 1 << bit
            if CLONE_NAMESPACE_FLAGS & flag:
                _add(lib, ctx, deny, "clone", _ScmpArg(0, SCMP_CMP_MASKED_EQ, flag, flag))
        _add(lib, ctx, deny, "personality", _ScmpArg(0, SCMP_CMP_NE, 0xFFFFFFFF, 0))
        return _export(lib, ctx)
    finally:
        lib.seccomp_release(ctx)


def _export(lib: ctypes.CDLL, ctx: int) -> bytes:
    fd = os.memfd_create("seccomp", os.MFD_CLOEXEC)
    try:
        rc = lib.seccomp_export_bpf(ctx, fd)
        if rc < 0:
            raise OSError(-rc, f"seccomp_export_bpf failed: {os.strerror(-rc)}")
        size = os.lseek(fd, 0, os.SEEK_CUR)
        os.lseek(fd, 0, os.SEEK_SET)
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)
