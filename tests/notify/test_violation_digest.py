"""Digest mode: violation alerts are held and sent as one summary per period."""

from __future__ import annotations

import pytest

from core import domain_events
from core.services import Services
from plugins.notify import violations
from tests.exams.support import FakeClock, add_users
from tests.notify.support import messages, settled


@pytest.fixture
def notify_config() -> str:
    return "violations.rate_limit_minutes = 0\nviolations.digest_minutes = 10\n"


async def test_alerts_are_collected_into_one_digest(
    services: Services, fake_clock: FakeClock
) -> None:
    [proctor] = await add_users(services, "proctor", 1)
    for n, kind in enumerate(("no_face", "phone", "voices")):
        data = {"attempt_id": f"attempt{n}", "kind": kind, "severity": "high", "text": kind}
        await domain_events.emit(services, "violation.raised", data)
    assert await messages(services, event="violation.raised") == []
    assert await violations.flush_digest(services) == 0  # the period has not passed
    fake_clock.advance(minutes=10, seconds=1)
    assert await violations.flush_digest(services) == 3
    rows = await settled(services, expect=2, event="violation.digest")
    assert {r.channel for r in rows} == {"email", "inapp"}
    assert all(r.user_id == proctor.id and r.subject == "3 violation alerts" for r in rows)
    assert all(k in rows[0].body_text for k in ("no_face", "phone", "voices"))
    assert await violations.flush_digest(services) == 0  # sent once
