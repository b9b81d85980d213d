"""Calling ``invigilator_grade_code`` from wherever grading runs.

Coding items are graded in the ``exams.grade_attempt`` job, which may run in a web process (the
in-process queue) or in ``invigilator worker`` (arq). Jobs get only ``ctx["services"]``; the
services carry the plugin manager the process booted with (``services.plugins``), so the judges
called are exactly the plugins that process loaded.

The hook is declared ``firstresult``, but an ``async`` implementation returns a coroutine,
which pluggy would take as an answer even when it resolves to ``None``. The implementations
are therefore called here one by one, in pluggy's order, awaiting each, and the first that
returns a number wins.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

from core.services import Services

log = logging.getLogger(__name__)


async def grade_code(
    services: Services,
    payload: Mapping[str, Any],
    response: Mapping[str, Any],
    *,
    attempt_id: str = "",
    item: int = -1,
) -> float | None:
    """The first judge's share of the points in [0, 1], or ``None`` when no judge answers."""
    plugins = services.plugins
    if plugins is None:  # services opened without a plugin manager: no judge to ask
        return None
    arguments = {
        "services": services,
        "payload": dict(payload),
        "response": dict(response),
        "attempt_id": attempt_id,
        "item": item,
    }
    for impl in reversed(plugins.hook.invigilator_grade_code.get_hookimpls()):
        value = impl.function(**{name: arguments[name] for name in impl.argnames})
        if inspect.isawaitable(value):
            value = await value
        if value is not None:
            share = float(value)  # type: ignore[arg-type]
            if not 0.0 <= share <= 1.0:
                log.warning("judge %s answered %s; clamped to [0, 1]", impl.plugin_name, share)
            return min(max(share, 0.0), 1.0)
    return None
