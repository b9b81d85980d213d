"""Find, register and report plugins.

Order: built-ins (every package under the built-in package that holds a ``plugin.py``), then the
modules named in ``plugins.toml``, then installed entry points (group ``invigilator.plugins``).
A plugin that cannot be imported or names a hook that does not exist is recorded as failed with
the reason and left out; the rest still load, so one broken plugin never stops the server.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import pkgutil
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, cast

import pluggy
from pydantic import BaseModel

from core import hookspecs
from core.errors import ConfigError
from core.plugin_config import PluginsFile, SectionProblem, validate_sections

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "invigilator.plugins"
PluginSource = Literal["builtin", "config", "entrypoint"]
PluginStatus = Literal["loaded", "failed", "disabled"]


@dataclass
class PluginRecord:
    """What ``invigilator plugins list`` shows for one plugin."""

    name: str
    source: PluginSource
    module: str
    status: PluginStatus = "loaded"
    reason: str | None = None
    hooks: list[str] = field(default_factory=list)

    def fail(self, reason: str) -> None:
        self.status = "failed"
        self.reason = reason
        self.hooks = []


class InvigilatorPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers every plugin it tried, including the failures."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.sections: dict[str, BaseModel] = {}
        self.section_problems: list[SectionProblem] = []

    # Registration ---------------------------------------------------------------------------

    def add_plugin(
        self, name: str, source: PluginSource, module: str, load: Callable[[], object]
    ) -> PluginRecord:
        """Import (via ``load``) and register one plugin, recording any failure."""
        record = PluginRecord(name=name, source=source, module=module)
        if name in self.records:
            record.fail(f"name already used by {self.records[name].module}")
            self.records[f"{name}@{module}"] = record
            return record
        self.records[name] = record
        try:
            plugin = load()
            self.register(plugin, name=name)
        except Exception as error:  # a broken plugin must not stop the others
            record.fail(_reason(error))
            log.error("plugin %s failed to load: %s", name, record.reason)
            return record
        record.hooks = sorted(caller.name for caller in self.get_hookcallers(plugin) or [])
        return record

    def disable(self, name: str, source: PluginSource, module: str) -> None:
        self.records[name] = PluginRecord(
            name=name,
            source=source,
            module=module,
            status="disabled",
            reason="disabled in plugins.toml",
        )

    def check_hooks(self) -> None:
        """``check_pending`` per plugin: a misspelled hook fails only that plugin, loudly."""
        while True:
            try:
                self.check_pending()
                return
            except pluggy.PluginValidationError as error:
                name = self.get_name(error.plugin) or "?"
                self.unregister(error.plugin)
                record = self.records.get(name)
                if record is None:
                    raise
                record.fail(f"unknown hook: {error}")
                log.error("plugin %s rejected: %s", name, error)

    # Queries --------------------------------------------------------------------------------

    def failed(self) -> list[PluginRecord]:
        return [r for r in self.records.values() if r.status == "failed"]

    def fail_plugin(self, plugin: object, reason: str) -> None:
        """Mark a registered plugin failed at run time (e.g. its startup hook raised)."""
        name = self.get_name(plugin) if plugin is not None else None
        if name and name in self.records:
            self.records[name].fail(reason)
            self.unregister(plugin)

    def collect_sections(self, plugins_file: PluginsFile) -> None:
        """Gather claimed ``plugins.toml`` sections and validate them (boot error if invalid)."""
        models: dict[str, type[BaseModel]] = {}
        owners: dict[str, str] = {}
        for impl in self.hook.invigilator_config_sections.get_hookimpls():
            claimed = cast("Mapping[str, type[BaseModel]]", impl.function() or {})
            for section, model in claimed.items():
                if section in models:
                    raise ConfigError(
                        f"plugins.toml: section [{section}] claimed by both "
                        f"{owners[section]} and {impl.plugin_name}"
                    )
                models[section] = model
                owners[section] = impl.plugin_name
        self.sections, self.section_problems = validate_sections(plugins_file, models)


def _reason(error: BaseException) -> str:
    last = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(error).__name__}: {error}{where}"


def discover_builtins(package: str) -> list[tuple[str, str]]:
    """``(plugin name, module path)`` for each built-in plugin under ``package``, sorted.

    A built-in plugin is a sub-package holding ``plugin.py``; grouping packages without one
    (``plugins.detectors``) are searched recursively. Names are dotted paths below ``package``
    (``"system"``, ``"detectors.face"``).
    """
    root = importlib.import_module(package)
    found: list[tuple[str, str]] = []

    def walk(pkg: ModuleType, prefix: str) -> None:
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            if not info.ispkg or info.name.startswith("_"):
                continue
            full = f"{pkg.__name__}.{info.name}"
            name = f"{prefix}{info.name}"
            spec = importlib.util.find_spec(f"{full}.plugin")
            if spec is not None:
                found.append((name, f"{full}.plugin"))
            else:
                try:
                    sub = importlib.import_module(full)
                except Exception as error:
                    found.append((name, f"{full}.plugin"))
                    log.debug("grouping package %s failed to import: %s", full, error)
                    continue
                walk(sub, f"{name}.")

    walk(root, "")
    return found


def build_plugin_manager(
    plugins_file: PluginsFile,
    *,
    builtin_package: str | None = "plugins",
    extra_plugins: Sequence[tuple[str, object]] = (),
) -> InvigilatorPluginManager:
    """Build the manager in the documented order and validate every plugin section.

    ``extra_plugins`` are ``(name, object)`` pairs registered last (used by tests).
    Raises :class:`ConfigError` only for configuration problems; broken plugins are recorded.
    """
    pm = InvigilatorPluginManager()
    disabled = set(plugins_file.selection.disabled)

    if builtin_package:
        for name, module in discover_builtins(builtin_package):
            if name in disabled:
                pm.disable(name, "builtin", module)
                continue
            pm.add_plugin(name, "builtin", module, _importer(module))

    for module in plugins_file.selection.modules:
        name = module
        if name in disabled:
            pm.disable(name, "config", module)
            continue
        pm.add_plugin(name, "config", module, _importer(module))

    if plugins_file.selection.entry_points:
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if entry.name in disabled:
                pm.disable(entry.name, "entrypoint", entry.value)
                continue
            pm.add_plugin(entry.name, "entrypoint", entry.value, entry.load)

    for name, plugin in extra_plugins:
        module = getattr(plugin, "__name__", type(plugin).__name__)
        pm.add_plugin(name, "config", module, _constant(plugin))

    pm.check_hooks()
    pm.collect_sections(plugins_file)
    return pm


def _constant(plugin: object) -> Callable[[], object]:
    return lambda: plugin


def _importer(module: str) -> Callable[[], Any]:
    return lambda: importlib.import_module(module)


async def call_async_hook(
    pm: InvigilatorPluginManager, hook_name: str, **kwargs: Any
) -> list[tuple[str, Any]]:
    """Call a hook whose implementations may be ``async``; one failure never stops the rest.

    Returns ``(plugin name, result)`` for each implementation that succeeded. A plugin that
    raises is marked failed when the hook is ``invigilator_startup``.
    """
    results: list[tuple[str, Any]] = []
    caller = getattr(pm.hook, hook_name)
    for impl in caller.get_hookimpls():  # registration order: built-ins first
        try:
            value = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            if inspect.isawaitable(value):
                value = await value
        except Exception as error:
            log.exception("plugin %s: %s failed", impl.plugin_name, hook_name)
            if hook_name == "invigilator_startup":
                pm.fail_plugin(impl.plugin, _reason(error))
            continue
        results.append((impl.plugin_name, value))
    return results
