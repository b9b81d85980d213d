"""The ``invigilator_domain_event`` listener: what each event turns into.

Every event goes to the matching webhooks; known events also become messages for the people
they concern, and ``exam.scheduled`` (re)plans reminders. Each part is guarded on its own, so
a broken webhook table never stops a receipt, and nothing here waits on a provider.
"""

from __future__ import annotations

import logging
from typing import Any

from core.services import Services
from plugins.notify import catalog, dispatch, facts, reminders, violations, webhooks

log = logging.getLogger("invigilator.notify")


async def on_event(services: Services, name: str, data: dict[str, Any]) -> None:
    try:
        await webhooks.queue_for_event(services, name, data)
    except Exception:
        log.exception("notify: webhooks for %s failed", name)
    if name == "exam.scheduled" and data.get("exam_id") is not None:
        try:
            await reminders.plan_exam(services, int(data["exam_id"]))
        except Exception:
            log.exception("notify: could not plan reminders for exam %s", data.get("exam_id"))
    if name == "violation.raised":
        await violations.handle(services, data)
        return
    if name not in catalog.KINDS:
        return
    if name == "account.created" and data.get("invited"):
        return  # the accounts plugin already mailed the invitation, which is the welcome
    if name == "exam.scheduled" and data.get("notify") is False:
        return  # a reschedule the examiner chose not to announce: reminders only
    async with services.db.session() as db:
        found = await facts.gather(db, name, data)
    extra: dict[str, Any] = {"exam": found.exam_view()}
    if found.attempt is not None and found.attempt.submitted_at is not None:
        extra["submitted_at"] = facts.when(found.attempt.submitted_at)
    await dispatch.queue_for_users(services, name, data, found.users, extra)
