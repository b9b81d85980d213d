"""Fixtures for the judge plugin's app tests: the real app on embedded backends with the fake
judge backend. Imported by ``conftest.py`` (which also holds the local sandbox's fixtures).

The exams fixtures (app, client, users, clock) are reused; only the plugins file differs: the
built-in judge is on, with ``[judge] backend = "fake"`` from ``fake_backend_plugin``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings, load_settings
from tests.exams.conftest import (
    admin,
    app,
    candidate,
    candidates,
    client,
    examiner,
    fake_clock,
    services,
)
from tests.judge.fake_backend_plugin import STATE, State

FAKE = "tests.judge.fake_backend_plugin"
__all__ = [
    "admin",
    "app",
    "candidate",
    "candidates",
    "client",
    "examiner",
    "fake_clock",
    "fake_judge",
    "judge_config",
    "services",
    "settings",
]


@pytest.fixture
def judge_config() -> str:
    """Override in a module to change ``[judge]`` settings (TOML lines)."""
    return 'backend = "fake"\nretry_seconds = 600\nlease_seconds = 60\n'


@pytest.fixture
def settings(tmp_path: Path, judge_config: str) -> Settings:
    path = tmp_path / "plugins.toml"
    path.write_text(
        f'[plugins]\nentry_points = false\nmodules = ["{FAKE}"]\n\n[exams]\n\n'
        f"[judge]\n{judge_config}\n"
    )
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=path,
        log_format="text",
        rate_limit_per_minute=0,
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )


@pytest.fixture
def fake_judge() -> Iterator[State]:
    """The fake backend's switches, reset around each test that asks for them."""
    STATE.reset()
    yield STATE
    STATE.reset()
