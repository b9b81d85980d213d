"""The pieces of the sandbox that need no process: command line, report parsing, seccomp."""

from __future__ import annotations

import os
import signal
import sys

import pytest
from pydantic import ValidationError

from plugins.judge.sandbox.command import Inject, Limits, build_command
from plugins.judge.sandbox.config import LocalSandboxConfig
from plugins.judge.sandbox.monitor import monitor_started, parse_report
from plugins.judge.sandbox.seccomp import build_filter

LIMITS = Limits(
    cpu_ms=1500, address_space_mb=128, processes=8, file_mb=4, open_files=32, stack_mb=64
)


def build(config: LocalSandboxConfig | None = None) -> list[str]:
    return build_command(
        config or LocalSandboxConfig(),
        bwrap="/usr/bin/bwrap",
        inner_uid=61000,
        report_fd=7,
        program=["./prog"],
        limits=LIMITS,
        injects=[Inject(5, "prog", "0755")],
        status_fd=6,
        seccomp_fd=8,
    ).argv


def test_command_isolates_and_limits() -> None:
    argv = build()
    for flag in [
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]:
        assert flag in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert argv[argv.index("--seccomp") + 1] == "8"
    assert argv[argv.index("--perms") : argv.index("--perms") + 5] == [
        "--perms",
        "0755",
        "--file",
        "5",
        "/box/prog",
    ]
    # the root is made read-only last, after the work folder and its files are in place
    last_remount = len(argv) - 1 - argv[::-1].index("--remount-ro")
    assert argv[last_remount + 1] == "/"
    assert last_remount > argv.index("--file") > argv.index("--tmpfs")
    tail = argv[argv.index("--") + 1 :]
    assert "--cpu=3:4" in tail
    assert f"--as={128 << 20}:{128 << 20}" in tail
    assert "--nproc=8:8" in tail
    assert "--core=0:0" in tail
    assert tail[-1] == "./prog"


def test_command_never_mounts_the_server() -> None:
    argv = build()
    sources = [argv[i + 1] for i, part in enumerate(argv) if part in {"--ro-bind", "--bind"}]
    here = os.path.dirname(os.path.abspath(__file__))
    for forbidden in [sys.prefix, os.path.dirname(os.path.dirname(here)), "/root", "/var", "/"]:
        assert forbidden not in sources
    assert "--bind" not in argv  # nothing writable from the host


def test_report_parsing() -> None:
    assert parse_report(b"S\n0 0.250000 0.010000 2048\n") is not None
    done = parse_report(b"S\n768 0.5 0.25 100\n")  # exit code 3
    assert done is not None
    assert done.exit_code == 3
    assert done.cpu_ms == 750
    killed = parse_report(f"S\n{int(signal.SIGSEGV)} 0.1 0 10".encode())
    assert killed is not None
    assert killed.signal == signal.SIGSEGV
    assert killed.exit_code is None
    assert parse_report(b"") is None
    assert parse_report(b"S\n") is None  # started, then killed before reporting
    assert parse_report(b"0 0.1 0 10\n") is None  # no start mark
    assert parse_report(b"S\n0 0 0 1\n0 0 0 1\n") is None  # a second line: something wrote
    assert monitor_started(b"S\n")
    assert not monitor_started(b"")


def test_artifact_must_fit_the_work_folder() -> None:
    with pytest.raises(ValidationError, match="artifact_limit_mb"):
        LocalSandboxConfig(work_dir_mb=16, artifact_limit_mb=32)


def test_seccomp_filter_builds() -> None:
    program = build_filter()
    assert program is not None
    assert len(program) % 8 == 0
    assert len(program) > 100
