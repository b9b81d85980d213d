"""Hostile submissions: each gets its verdict, and the host stays untouched.

After every test no process of a sandbox uid may survive (the daemon test is the pointed one,
the autouse fixture checks all of them).
"""

from __future__ import annotations

import os
import socket
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plugins.judge.backend import Verdict
from plugins.judge.local import LocalJudge
from tests.judge.sandbox_kit import processes_of, run_one, small_config

ROOT = os.geteuid() == 0  # not root: sandboxes share the server's uid, survivors can't be told


def survivors(judge: LocalJudge) -> list[str]:
    return processes_of(judge.slots.uids()) if ROOT else []


@pytest.fixture
async def judge() -> AsyncIterator[LocalJudge]:
    backend = LocalJudge(small_config())
    yield backend
    assert survivors(backend) == []


def py(source: str) -> str:
    return textwrap.dedent(source).lstrip()


async def test_fork_bomb(judge: LocalJudge) -> None:
    source = (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    result = await run_one(judge, "python", source, time_limit_ms=500)
    assert result.verdict is Verdict.TIME_LIMIT


async def test_c_fork_bomb(judge: LocalJudge) -> None:
    source = "#include <unistd.h>\nint main(void){for(;;) fork();}\n"
    result = await run_one(judge, "c", source, time_limit_ms=500)
    assert result.verdict is Verdict.TIME_LIMIT


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("python", "blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 20))\n"),
        (
            "cpp",
            "#include <vector>\nint main(){std::vector<std::vector<char>> v;"
            "for(;;) v.emplace_back(1<<20, 1);}\n",
        ),
        (
            "c",
            "#include <stdlib.h>\n#include <string.h>\nint main(void){for(;;){char*p=malloc"
            "(1<<20); if(!p) return 12; memset(p,1,1<<20);}}\n",
        ),
        ("javascript", "const a = [];\nfor (;;) a.push(new Array(1e6).fill(1.5));\n"),
    ],
)
async def test_memory_bomb(judge: LocalJudge, language: str, source: str) -> None:
    result = await run_one(judge, language, source, time_limit_ms=3000, memory_limit_mb=64)
    test = result.tests[0]
    if language == "c":  # malloc returns NULL: the program decides what happens next
        assert test.verdict in {Verdict.MEMORY_LIMIT, Verdict.RUNTIME_ERROR}
        assert test.memory_kb is not None
        assert test.memory_kb < 130 * 1024
    else:
        assert test.verdict is Verdict.MEMORY_LIMIT, test


async def test_infinite_loop(judge: LocalJudge) -> None:
    result = await run_one(
        judge, "c", "int main(void){volatile int x=0; for(;;) x++;}\n", time_limit_ms=500
    )
    assert result.verdict is Verdict.TIME_LIMIT


async def test_sleep_hits_the_wall_clock_limit(judge: LocalJudge) -> None:
    result = await run_one(judge, "python", "import time\ntime.sleep(60)\n", time_limit_ms=300)
    assert result.verdict is Verdict.TIME_LIMIT
    assert "wall-clock" in result.tests[0].message


async def test_waiting_for_input_that_never_comes(judge: LocalJudge) -> None:
    source = "import sys\nsys.stdin.read()\nimport time\ntime.sleep(60)\n"
    result = await run_one(judge, "python", source, time_limit_ms=300)
    assert result.verdict is Verdict.TIME_LIMIT


async def test_daemon_does_not_outlive_the_run(judge: LocalJudge) -> None:
    source = py("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.close(1); os.close(2)
                time.sleep(60)
            os._exit(0)
        print("done")
    """)
    result = await run_one(judge, "python", source, expected="done")
    assert result.verdict is Verdict.ACCEPTED
    assert survivors(judge) == []


async def test_no_network(judge: LocalJudge) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    source = py(f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=1)
            print("connected")
        except OSError as error:
            print("refused", error)
        try:
            socket.getaddrinfo("example.com", 80)
            print("resolved")
        except OSError as error:
            print("no dns", error)
    """)
    try:
        result = await run_one(judge, "python", source)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    out = result.tests[0].stdout
    assert "refused" in out
    assert "no dns" in out
    assert "connected" not in out
    assert "resolved" not in out


async def test_links_reach_nothing_on_the_host(judge: LocalJudge, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("HOST-SECRET-CONTENT\n")
    os.chmod(tmp_path, 0o755)
    os.chmod(secret, 0o644)
    source = py(f"""
        import os
        targets = ["/etc/passwd", "/etc/shadow", {str(secret)!r}, "/proc/1/root/etc/passwd",
                   "/proc/self/root/etc/passwd", "/proc/1/cwd", "/root/.bashrc"]
        for index, target in enumerate(targets):
            name = f"link{{index}}"
            os.symlink(target, name)
            try:
                print(target, open(name).read()[:200])
            except OSError as error:
                print(target, "unreadable", type(error).__name__)
        try:
            os.link({str(secret)!r}, "hard")
            print("hardlinked")
        except OSError as error:
            print("no hardlink", type(error).__name__)
        try:
            os.link("/usr/bin/python3", "py")  # visible, but on another (read-only) mount
            print("usr hardlinked")
        except OSError as error:
            print("no usr hardlink", type(error).__name__)
        try:
            with open({str(secret)!r}, "w") as handle:
                handle.write("changed")
            print("wrote host file")
        except OSError as error:
            print("cannot write", type(error).__name__)
        os.symlink({str(secret)!r}, "prog")
        os.symlink("/etc/passwd", "main.py.out")
    """)
    result = await run_one(judge, "python", source)
    out = result.tests[0].stdout
    assert "HOST-SECRET-CONTENT" not in out
    assert "root:x:0:0" not in out
    assert "no hardlink" in out
    assert "no usr hardlink" in out
    assert "cannot write" in out
    assert secret.read_text() == "HOST-SECRET-CONTENT\n"


async def test_environment_and_processes_are_hidden(
    judge: LocalJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INVIGILATOR_TEST_SECRET", "s3cr3t-env-value")
    source = py("""
        import os
        print("hostname", open("/proc/sys/kernel/hostname").read().strip())
        print("uid", os.getuid())
        seen = repr(sorted(os.environ.items()))
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        print("pids", len(pids))
        for pid in pids:
            for name in ("cmdline", "environ"):
                try:
                    seen += repr(open(f"/proc/{pid}/{name}", "rb").read())
                except OSError as error:
                    seen += type(error).__name__
        print("secret" if "s3cr3t" in seen else "no secret")
        print("pytest" if "pytest" in seen else "no pytest")
    """)
    result = await run_one(judge, "python", source)
    out = result.tests[0].stdout
    assert "no secret" in out
    assert "no pytest" in out
    count = int(out.split("pids ")[1].split()[0])
    assert count <= 3  # bubblewrap's init, the monitor, the program
    assert "hostname judge" in out
    assert "uid 0" not in out
    assert ("uid 61000" in out or "uid 61001" in out) if ROOT else f"uid {os.getuid()}" in out


async def test_huge_output(judge: LocalJudge) -> None:
    result = await run_one(judge, "python", "while True:\n    print('x' * 4096)\n")
    assert result.verdict is Verdict.OUTPUT_LIMIT
    assert len(result.tests[0].stdout) <= 2000


async def test_writing_outside_the_work_folder_fails(judge: LocalJudge) -> None:
    source = py("""
        for path in ["/usr/evil", "/etc/evil", "/evil", "/dev/evil", "/proc/evil", "/box/ok",
                     "/tmp/ok"]:
            try:
                open(path, "w").write("x")
                print(path, "written")
            except OSError as error:
                print(path, "refused", type(error).__name__)
    """)
    out = (await run_one(judge, "python", source)).tests[0].stdout
    for path in ["/usr/evil", "/etc/evil", "/evil", "/dev/evil", "/proc/evil"]:
        assert f"{path} refused" in out
    assert "/box/ok written" in out
    assert "/tmp/ok written" in out
    assert not Path("/usr/evil").exists()  # noqa: ASYNC240 (a check, not I/O in a hot path)
    assert not Path("/evil").exists()  # noqa: ASYNC240


async def test_work_folder_and_files_are_capped(judge: LocalJudge) -> None:
    source = py("""
        import os
        try:
            with open("big", "wb") as handle:
                for _ in range(200):
                    handle.write(b"x" * (1 << 20))
        except OSError as error:
            print("stopped", type(error).__name__)
    """)
    result = await run_one(judge, "python", source)
    # RLIMIT_FSIZE raises SIGXFSZ (an output limit); a full tmpfs is ENOSPC (printed)
    assert result.verdict in {Verdict.OUTPUT_LIMIT, Verdict.WRONG_ANSWER}


async def test_new_namespaces_and_tracing_are_refused(judge: LocalJudge) -> None:
    source = py("""
        import ctypes, subprocess
        libc = ctypes.CDLL(None, use_errno=True)
        print("unshare", libc.unshare(0x10000000), ctypes.get_errno())
        print("ptrace", libc.ptrace(16, 1, 0, 0), ctypes.get_errno())
        run = subprocess.run(["unshare", "-r", "id"], capture_output=True)
        print("unshare-cmd", run.returncode)
    """)
    out = (await run_one(judge, "python", source)).tests[0].stdout
    assert "unshare -1 1" in out  # EPERM
    assert "ptrace -1 1" in out
    assert "unshare-cmd 0" not in out


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("c", '#include "/dev/zero"\nint main(void){return 0;}\n'),
        ("c", '#include "/etc/passwd"\nint main(void){return 0;}\n'),
        ("c", "char big[1 << 28] = {1};\nint main(void){return big[5];}\n"),
        (
            "cpp",
            "template<int N> struct F { static const int v = F<N+1>::v; };\n"
            "int main(){ return F<0>::v; }\n",
        ),
    ],
)
async def test_compile_time_bombs(judge: LocalJudge, language: str, source: str) -> None:
    limited = LocalJudge(small_config(compile_time_limit_ms=2000, compile_memory_mb=256))
    result = await run_one(limited, language, source)
    assert result.verdict is Verdict.COMPILE_ERROR, result
    assert "root:x:0:0" not in result.compile_output
    assert survivors(limited) == []


async def test_cpu_of_orphaned_helpers_is_counted(judge: LocalJudge) -> None:
    # The program hands its work to a child and exits without reaping it: the child's CPU
    # time must still count (the monitor adopts and reaps orphans).
    source = py("""
        import os, time
        if os.fork() == 0:
            while True:
                pass
        time.sleep(0.9)
        print("done")
        os._exit(0)
    """)
    result = await run_one(judge, "python", source, expected="done", time_limit_ms=500)
    assert result.verdict is Verdict.TIME_LIMIT, result
    assert survivors(judge) == []


async def test_the_monitor_report_cannot_be_forged(judge: LocalJudge) -> None:
    # Write a perfect report into the monitor's pipe, then kill the monitor so that its real
    # report never comes: the pipe is not reachable and a killed monitor is a runtime error.
    source = py("""
        import os
        parent = os.getppid()
        args = open(f"/proc/{parent}/cmdline", "rb").read().split(b"\\0")
        fd = int(args[args.index(b"-c") + 2])
        try:
            with open(f"/proc/{parent}/fd/{fd}", "w") as report:
                report.write("0 0.0 0.0 1\\n")
            print("forged")
        except OSError as error:
            print("forge refused", type(error).__name__)
        os.kill(parent, 9)
    """)
    result = await run_one(judge, "python", source)
    assert result.verdict is Verdict.RUNTIME_ERROR, result
    assert "monitor" in result.tests[0].message
    assert "forge refused" in result.tests[0].stdout
