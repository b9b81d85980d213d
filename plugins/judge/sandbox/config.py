"""The ``[judge.local]`` table: how the local bubblewrap sandbox runs candidates' code.

Every limit has a safe default; the language table is data so an operator can change a
compiler flag or add a language without code. Argument lists are templates: ``{memory_mb}``
becomes the test's memory limit in MiB (node's heap flag needs it).
"""

from __future__ import annotations

import os

from pydantic import BaseModel, Field, model_validator


class LanguageSpec(BaseModel):
    """How one language is compiled and run inside the sandbox (paths as seen inside it)."""

    label: str = Field(description="What the language picker shows, e.g. 'C (gcc)'.")
    editor_mode: str = Field("", description="Syntax-highlighting mode for the editor.")
    source_file: str = Field(description="File name the source is written to in the work folder.")
    compile: list[str] | None = Field(
        None,
        description="Compiler argv run in the sandbox before the tests; None: no compile step. "
        "A non-zero exit is a compile error.",
    )
    artifact: str | None = Field(
        None,
        description="File the compile step produces and the tests run (e.g. 'prog'); None: the "
        "tests run the source again (the compile step was only a syntax check).",
    )
    run: list[str] = Field(description="Argv of the program under test.")
    address_space_extra_mb: int = Field(
        64,
        ge=0,
        le=65_536,
        description="Added to the test's memory limit to form RLIMIT_AS: runtimes reserve "
        "address space they never touch (node reserves about 1 GiB), the resident size is "
        "still checked against the limit itself.",
    )
    max_processes: int | None = Field(
        None, ge=1, le=4096, description="Overrides [judge.local] max_processes (threads count)."
    )


def default_languages() -> dict[str, LanguageSpec]:
    """Python of the system (not the server's virtualenv), gcc, g++ and node."""
    return {
        "python": LanguageSpec(
            label="Python 3",
            editor_mode="python",
            source_file="main.py",
            compile=[
                "/usr/bin/python3",
                "-I",
                "-B",
                "-c",
                "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
                "main.py",
            ],
            run=["/usr/bin/python3", "-I", "-B", "main.py"],
            address_space_extra_mb=64,
        ),
        "c": LanguageSpec(
            label="C (gcc, C17)",
            editor_mode="c",
            source_file="main.c",
            compile=["/usr/bin/gcc", "-std=c17", "-O2", "-pipe", "-o", "prog", "main.c", "-lm"],
            artifact="prog",
            run=["./prog"],
            address_space_extra_mb=16,
        ),
        "cpp": LanguageSpec(
            label="C++ (g++, C++17)",
            editor_mode="cpp",
            source_file="main.cpp",
            compile=["/usr/bin/g++", "-std=c++17", "-O2", "-pipe", "-o", "prog", "main.cpp"],
            artifact="prog",
            run=["./prog"],
            address_space_extra_mb=16,
        ),
        "javascript": LanguageSpec(
            label="JavaScript (Node.js)",
            editor_mode="javascript",
            source_file="main.js",
            compile=["/usr/bin/node", "--check", "main.js"],
            run=["/usr/bin/node", "--max-old-space-size={memory_mb}", "main.js"],
            address_space_extra_mb=1536,
            max_processes=32,
        ),
    }


class LocalSandboxConfig(BaseModel):
    """Limits and identity of the local sandbox; see docs/judge.md, "Local sandbox"."""

    bwrap_path: str = Field("bwrap", description="The bubblewrap binary (name on PATH or path).")
    monitor_python: str = Field(
        "/usr/bin/python3",
        description="The system python3 that runs the in-sandbox monitor measuring CPU time and "
        "memory (path inside the sandbox, i.e. under the read-only binds).",
    )
    max_parallel: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=256,
        description="Sandboxes running at once; further runs wait. Defaults to the CPU count.",
    )
    sandbox_uid: int = Field(
        61000,
        ge=1000,
        le=2**31 - 2,
        description="First of max_parallel dedicated uids (and gids) the sandboxes run as when "
        "the server runs as root; each concurrent sandbox gets its own so per-uid limits and "
        "signals never cross. Ignored when the server is not root (its own uid is used).",
    )
    require_seccomp: bool = Field(
        False,
        description="Refuse to judge when the seccomp filter cannot be built (libseccomp "
        "missing); by default the sandbox runs without it and status() says 'seccomp: off'.",
    )
    ro_binds: list[str] = Field(
        default_factory=lambda: ["/usr", "/bin", "/lib", "/lib64", "/sbin", "/etc/alternatives"],
        description="Host paths mounted read-only at the same place; symlinks (merged /usr) "
        "are recreated as symlinks, missing paths skipped. Never the project, a virtualenv, "
        "/root, /home or /var.",
    )
    ro_files: list[str] = Field(
        default_factory=lambda: ["/etc/ld.so.cache"],
        description="Single host files mounted read-only (skipped when missing).",
    )
    work_dir_mb: int = Field(
        64, ge=1, le=4096, description="Size cap of the tmpfs work folder (/box, also /tmp)."
    )
    max_processes: int = Field(
        16, ge=1, le=4096, description="RLIMIT_NPROC inside the sandbox (threads count too)."
    )
    max_open_files: int = Field(64, ge=8, le=65_536, description="RLIMIT_NOFILE.")
    max_file_mb: int = Field(16, ge=1, le=4096, description="RLIMIT_FSIZE: largest file written.")
    stack_mb: int = Field(
        64, ge=1, le=1024, description="RLIMIT_STACK (also each thread's default stack)."
    )
    output_limit_kb: int = Field(
        1024, ge=1, le=262_144, description="Standard output beyond this is an output_limit."
    )
    stderr_limit_kb: int = Field(
        64, ge=1, le=65_536, description="Standard error kept; the rest is read and dropped."
    )
    wall_factor: float = Field(
        2.0, ge=1.0, le=20.0, description="Wall-clock limit = CPU limit x this + wall_extra_ms."
    )
    wall_extra_ms: int = Field(
        500, ge=0, le=60_000, description="Added to the wall-clock limit (sandbox start-up)."
    )
    compile_time_limit_ms: int = Field(
        10_000, ge=100, le=300_000, description="CPU limit of the compile step."
    )
    compile_memory_mb: int = Field(
        768, ge=64, le=16_384, description="Address-space limit of the compile step."
    )
    compile_output_kb: int = Field(
        16, ge=1, le=1024, description="Compiler messages kept for the candidate."
    )
    artifact_limit_mb: int = Field(
        32, ge=1, le=1024, description="Largest compiled program carried to the tests."
    )
    languages: dict[str, LanguageSpec] = Field(
        default_factory=default_languages,
        description="Language id -> how to compile and run it.",
    )

    @model_validator(mode="after")
    def _artifact_fits(self) -> LocalSandboxConfig:
        """The compiled program is copied into each test's work folder: it must fit there, or
        bubblewrap would fail to set the sandbox up and the judge would look broken."""
        if self.artifact_limit_mb >= self.work_dir_mb:
            raise ValueError("artifact_limit_mb must be smaller than work_dir_mb")
        return self
