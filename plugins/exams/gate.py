"""Asking the other plugins whether a candidate may start a new attempt.

``invigilator_attempt_starting`` lets a plugin refuse a start before anything is created: live
proctoring refuses a proctored exam until the candidate has consented (``consent_required``).
The exams plugin asks after its own checks (window, attempts left) passed, so a refusal never
hides a reason the candidate can do nothing about.

As in :mod:`plugins.exams.judge`, implementations may be ``async``, so they are called one by
one in pluggy's order and awaited; the first that answers a code decides. A plugin that fails
while checking refuses the start (``start_check_failed``): the check exists to keep a start
from happening without something (consent), so an error must not wave it through.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

from core.services import Services
from plugins.exams.errors import StartRefused, start_refused

log = logging.getLogger(__name__)

CHECK_FAILED = "start_check_failed"
# What the candidate reads for the codes known here; other codes get a generic sentence.
MESSAGES = {
    "consent_required": "this exam is proctored: give your consent and run the system check "
    "before you start",
    CHECK_FAILED: "the exam could not be started because a check failed; try again in a moment",
}


async def refusal(
    services: Services, exam_id: int, user_id: int, proctoring_policy: Mapping[str, Any]
) -> StartRefused | None:
    """The error refusing the start (its ``code`` is the plugin's answer), or ``None``."""
    plugins = services.plugins
    if plugins is None:  # services opened without a plugin manager: nobody to ask
        return None
    arguments = {
        "services": services,
        "exam_id": exam_id,
        "user_id": user_id,
        "proctoring_policy": dict(proctoring_policy),
    }
    for impl in reversed(plugins.hook.invigilator_attempt_starting.get_hookimpls()):
        try:
            value = impl.function(**{name: arguments[name] for name in impl.argnames})
            if inspect.isawaitable(value):
                value = await value
        except Exception:
            log.exception("exams: plugin %s failed checking a start", impl.plugin_name)
            return start_refused(CHECK_FAILED, MESSAGES[CHECK_FAILED])
        if value is None:
            continue
        code = str(value)
        message = MESSAGES.get(code, f"the exam cannot be started yet ({code})")
        return start_refused(code, message, details={"refused_by": impl.plugin_name})
    return None
