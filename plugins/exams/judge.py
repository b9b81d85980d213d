"""Calling ``invigilator_grade_code`` from wherever grading runs.

Coding items are graded in the ``exams.grade_attempt`` job, which may run in a web process (the
in-process queue) or in ``invigilator worker`` (arq). Neither hands a job the plugin manager:
jobs get only ``ctx["services"]``, and a job's keyword arguments must be serialisable. So the
exams plugin's start-up hook, which runs in both kinds of process, builds this process's view
of the installed plugins from the same ``plugins.toml`` the process booted with and keeps it
here (:func:`install`). Plugin modules are imported once per process, so the judge functions
called through it are the very ones the process loaded.

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

from core.plugin_config import read_plugins_file
from core.plugin_manager import InvigilatorPluginManager, build_plugin_manager
from core.services import Services

log = logging.getLogger(__name__)

_plugins: InvigilatorPluginManager | None = None


def install(plugins: InvigilatorPluginManager | None) -> None:
    """Use ``plugins`` for code grading in this process (``None`` forgets it)."""
    global _plugins  # noqa: PLW0603 - one plugin view per process, set at start-up
    _plugins = plugins


def load(services: Services) -> InvigilatorPluginManager:
    """The plugins this process runs, built from its ``plugins.toml``, and installed."""
    plugins = build_plugin_manager(read_plugins_file(services.settings.plugins_file))
    install(plugins)
    return plugins


async def grade_code(
    services: Services, payload: Mapping[str, Any], response: Mapping[str, Any]
) -> float | None:
    """The first judge's share of the points in [0, 1], or ``None`` when no judge answers."""
    plugins = _plugins if _plugins is not None else load(services)
    arguments = {"services": services, "payload": dict(payload), "response": dict(response)}
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
