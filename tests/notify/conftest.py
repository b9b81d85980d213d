"""Fixtures for the notifications tests: the real app on embedded backends, a controllable
clock for both the exams and notifications plugins, and ``[notify]`` settings per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings, load_settings
from plugins.exams import clock as exams_clock
from plugins.notify import clock as notify_clock
from tests.exams.conftest import (  # noqa: F401 (fixtures)
    admin,
    app,
    candidate,
    candidates,
    client,
    examiner,
    services,
)
from tests.exams.support import FakeClock


@pytest.fixture
def notify_config() -> str:
    """Override in a module: TOML lines of ``[notify]`` (sub-tables allowed)."""
    return ""


@pytest.fixture
def settings(tmp_path: Path, notify_config: str) -> Settings:
    path = tmp_path / "plugins.toml"
    path.write_text(
        "[plugins]\nentry_points = false\n\n[notify]\n"
        "reminders.sweep_seconds = 3600\n"  # tests sweep by hand
        "retry.backoff_seconds = 0\n"
        f"{notify_config}\n"
    )
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=path,
        log_format="text",
        rate_limit_per_minute=0,
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(exams_clock, "now", fake.now)
    monkeypatch.setattr(notify_clock, "now", fake.now)
    return fake
