"""Fixtures of the judge tests. The local sandbox's helpers live in ``sandbox_kit.py`` (each
sandbox test module declares its own ``judge`` fixture from them)."""

# The judge plugin's app tests (API, jobs, browser): the real app with the fake backend.
from tests.judge.app_fixtures import (
    admin,
    app,
    candidate,
    candidates,
    client,
    examiner,
    fake_clock,
    fake_judge,
    judge_config,
    services,
    settings,
)

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
