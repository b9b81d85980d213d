"""Start-up and shutdown of one server process, as an aiohttp ``cleanup_ctx``.

Order on start: open backends → bring an embedded SQLite schema up to date (a shared MySQL
schema is migrated only by ``invigilator migrate``, never by racing server processes) → plugin
``invigilator_startup`` hooks. On stop the reverse: plugin shutdown hooks while the backends
are still open, then the backends close.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import cast

from aiohttp import web
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import make_url

from core.detectors import Detector
from core.plugin_manager import InvigilatorPluginManager, call_async_hook
from core.ports import JobFunction
from core.services import Services
from core.settings import Settings
from storage.migrate import upgrade_async
from storage.services import close_services, open_services, start_outbox
from webapp.keys import PLUGINS, SERVICES, SETTINGS
from webapp.metrics import METRICS

log = logging.getLogger(__name__)


def plugin_migration_dirs(pm: InvigilatorPluginManager) -> list[Path]:
    return [Path(p) for dirs in pm.hook.invigilator_migration_dirs() for p in dirs or ()]


def plugin_jobs(pm: InvigilatorPluginManager) -> dict[str, JobFunction]:
    """Every plugin's job functions; one name registered twice is a boot error."""
    jobs: dict[str, JobFunction] = {}
    for impl in pm.hook.invigilator_jobs.get_hookimpls():
        registered = cast("Mapping[str, JobFunction]", impl.function() or {})
        for name, function in registered.items():
            if name in jobs:
                raise ValueError(f"job {name!r} is registered by two plugins")
            jobs[name] = function
    return jobs


def is_embedded_database(settings: Settings) -> bool:
    return make_url(settings.effective_database_url).get_backend_name() == "sqlite"


def collect_detectors(pm: InvigilatorPluginManager, services: Services) -> None:
    """Every plugin's detectors into ``services``; a hook that raises is reported, not fatal."""
    for impl in pm.hook.invigilator_register_detectors.get_hookimpls():
        try:
            built = cast("Iterable[Detector] | None", impl.function(services=services))
            detectors = list(built or ())
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            services.detector_failures[f"plugin:{impl.plugin_name}"] = reason
            log.exception("plugin %s could not build its detectors", impl.plugin_name)
            continue
        services.detectors.extend(detectors)


async def start_services(
    settings: Settings,
    pm: InvigilatorPluginManager,
    metrics: CollectorRegistry | None = None,
) -> Services:
    """Open backends, migrate an embedded schema, collect detectors, run plugin start-up hooks."""
    services = await open_services(settings, jobs=plugin_jobs(pm), sections=pm.sections)
    services.metrics = metrics
    services.plugins = pm
    if is_embedded_database(settings):
        await upgrade_async(settings.effective_database_url, plugin_migration_dirs(pm))
    start_outbox(services)
    collect_detectors(pm, services)
    await call_async_hook(pm, "invigilator_startup", services=services)
    return services


async def stop_services(services: Services, pm: InvigilatorPluginManager) -> None:
    await call_async_hook(pm, "invigilator_shutdown", services=services)
    await close_services(services)


async def services_context(app: web.Application) -> AsyncIterator[None]:
    services = await start_services(app[SETTINGS], app[PLUGINS], app.get(METRICS))
    app[SERVICES] = services
    log.info("backends open", extra={"backends": [b.name for b in services.backends()]})
    yield
    await stop_services(services, app[PLUGINS])
