"""Open every backend named by the settings and bundle them as :class:`core.services.Services`.

Opening never waits for a server: a backend that is down at boot makes ``/readyz`` fail and its
calls raise ``Unavailable``, but the process still starts and recovers when the server returns.
Event-log appends and blob puts go through the durable outbox (:mod:`storage.outbox`), so an
outage of MongoDB or S3 delays those writes instead of losing them.
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
from storage.outbox import DurableBlobStore, DurableEventLog, Outbox

log = logging.getLogger(__name__)
OUTBOX_INTERVAL_S = 5.0


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
    outbox = Outbox(db, events, blobs)
    services = Services(
        settings=settings,
        db=db,
        events=DurableEventLog(events, outbox),
        blobs=DurableBlobStore(blobs, outbox),
        cache=cache,
        bus=bus,
        jobs=queue,
        sections=dict(sections or {}),
    )
    queue.set_context({"services": services})
    return services


def start_outbox(services: Services) -> None:
    """Start delivering waiting writes; call once the schema (the outbox table) exists."""
    if isinstance(services.events, DurableEventLog):
        services.events.outbox.start(interval=OUTBOX_INTERVAL_S)


async def close_services(services: Services) -> None:
    """Close every backend, the job queue first so no job starts against a closed store."""
    if isinstance(services.events, DurableEventLog):
        await services.events.outbox.stop()
    ordered = [services.jobs, *[b for b in services.backends() if b is not services.jobs]]
    for backend in ordered:
        try:
            await backend.close()
        except Exception:  # closing must go on for the others
            log.exception("closing %s failed", getattr(backend, "name", backend))
    await asyncio.sleep(0)
