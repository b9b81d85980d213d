"""Open every backend named by the settings and bundle them as :class:`core.services.Services`.

Opening never waits for a server: a backend that is down at boot makes ``/readyz`` fail and its
calls raise ``Unavailable``, but the process still starts and recovers when the server returns.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import BaseModel

from core.ports import JobRegistry
from core.services import Services
from core.settings import Settings
from storage.backends import open_blob_store, open_broker, open_event_log
from storage.database import SqlDatabase

log = logging.getLogger(__name__)


async def open_services(
    settings: Settings,
    *,
    jobs: JobRegistry,
    sections: dict[str, BaseModel] | None = None,
) -> Services:
    db = SqlDatabase(settings.effective_database_url)
    events = await open_event_log(settings)
    blobs = await open_blob_store(settings)
    cache, bus, queue = await open_broker(settings, jobs)
    services = Services(
        settings=settings,
        db=db,
        events=events,
        blobs=blobs,
        cache=cache,
        bus=bus,
        jobs=queue,
        sections=dict(sections or {}),
    )
    queue.set_context({"services": services})
    return services


async def close_services(services: Services) -> None:
    """Close every backend, the job queue first so no job starts against a closed store."""
    ordered = [services.jobs, *[b for b in services.backends() if b is not services.jobs]]
    for backend in ordered:
        try:
            await backend.close()
        except Exception:  # closing must go on for the others
            log.exception("closing %s failed", getattr(backend, "name", backend))
    await asyncio.sleep(0)
