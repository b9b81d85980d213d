"""Live proctoring emits ``violation.raised`` when a violation starts (not when it updates or
ends), and the notifications plugin turns it into proctor alerts."""

from __future__ import annotations

import time
from typing import Any

from core.policy import ProctoringPolicy
from core.rules import AttemptRules, RuleChange, Violation
from core.services import Services
from plugins.proctoring.live import AttemptLive, LiveProctoring
from tests.exams.support import add_users
from tests.notify.support import messages, settled


async def test_a_started_violation_alerts_proctors_once(services: Services) -> None:
    [proctor] = await add_users(services, "proctor", 1)
    live = AttemptLive(
        attempt_id="c" * 32,
        exam_id=1,
        exam_title="Chemistry",
        user_id=1,
        candidate="C",
        policy=ProctoringPolicy(),
        rules=AttemptRules("c" * 32, []),
    )
    proctoring: Any = LiveProctoring(services, registry=None, sampler=None)  # type: ignore[arg-type]
    violation = Violation(
        attempt_id=live.attempt_id,
        kind="phone",
        detector="objects",
        label="Phone",
        severity="high",
        started_at=time.time(),
    )
    await proctoring._record(live, RuleChange("started", violation), time.time())
    rows = await settled(services, expect=2, event="violation.raised")
    assert {r.user_id for r in rows} == {proctor.id}
    assert all("phone" in r.subject.lower() for r in rows)
    ended = violation.model_copy(update={"ended_at": time.time()})
    await proctoring._record(live, RuleChange("ended", ended), time.time())
    assert len(await messages(services, event="violation.raised")) == 2
