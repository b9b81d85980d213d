"""Emitting a domain event to every plugin that listens (``invigilator_domain_event``).

The owner of a fact (the exams plugin for a submitted attempt, accounts for a new account)
calls :func:`emit` after its transaction commits. Listeners such as notifications must never
make the emitting request fail or wait on a slow provider: each implementation is called in
turn, awaited when ``async``, and an exception is logged and swallowed here.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

from core.services import Services

log = logging.getLogger("invigilator.events")


async def emit(services: Services, name: str, data: Mapping[str, Any]) -> int:
    """Hand ``name``/``data`` to every listener; returns how many handled it without error."""
    plugins = services.plugins
    if plugins is None:  # services opened without a plugin manager (some CLI paths, tests)
        return 0
    handled = 0
    arguments = {"services": services, "name": name, "data": dict(data)}
    for impl in plugins.hook.invigilator_domain_event.get_hookimpls():
        try:
            value = impl.function(**{key: arguments[key] for key in impl.argnames})
            if inspect.isawaitable(value):
                await value
            handled += 1
        except Exception:
            log.exception("listener %s failed on event %s", impl.plugin_name, name)
    return handled
