"""Violation alerts to proctors: severity threshold and per attempt/kind rate limit."""

from __future__ import annotations

import pytest

from core import domain_events
from core.services import Services
from tests.exams.support import add_users
from tests.notify.support import messages, settled


@pytest.fixture
def notify_config() -> str:
    return 'violations.min_severity = "medium"\nviolations.rate_limit_minutes = 5\n'


def violation(kind: str, severity: str, attempt: str = "a" * 32) -> dict[str, str]:
    return {
        "attempt_id": attempt,
        "kind": kind,
        "severity": severity,
        "label": kind,
        "text": f"{kind} 12 s",
    }


async def test_threshold_and_rate_limit(services: Services) -> None:
    proctors = await add_users(services, "proctor", 2)
    await add_users(services, "candidate", 1)
    await domain_events.emit(services, "violation.raised", violation("gaze", "low"))
    assert await messages(services, event="violation.raised") == []

    await domain_events.emit(services, "violation.raised", violation("no_face", "high"))
    rows = await settled(services, expect=4, event="violation.raised")
    assert {r.user_id for r in rows} == {p.id for p in proctors}
    assert {r.channel for r in rows} == {"email", "inapp"}
    assert all(r.subject.startswith("[high] no_face") for r in rows)

    await domain_events.emit(services, "violation.raised", violation("no_face", "high"))
    assert len(await messages(services, event="violation.raised")) == 4  # limited
    await domain_events.emit(services, "violation.raised", violation("phone", "medium"))
    assert len(await settled(services, expect=8, event="violation.raised")) == 8
    await domain_events.emit(services, "violation.raised", violation("no_face", "high", "b" * 32))
    assert len(await settled(services, expect=12, event="violation.raised")) == 12
