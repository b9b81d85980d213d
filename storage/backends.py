"""Open the adapters that the settings' URLs name: the scheme alone picks the backend.

These are the only functions the app and worker call to get storage; everything else talks to the
ports in :mod:`core.ports`. They do the I/O an adapter needs before its first use (creating the
SQLite file, MongoDB indexes, the S3 bucket). A server that is down at start-up does not stop
the process: the failure is logged, ``/readyz`` reports the backend, and the adapter finishes
its set-up on the first successful ``ping``. A malformed URL is still a boot error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from core.errors import ConfigError, Unavailable
from core.ports import BlobStore, Bus, Cache, EventLog, JobQueue, JobRegistry
from core.settings import Settings
from storage.blobs.local import LocalBlobStore, parse_file_url
from storage.blobs.s3 import S3BlobStore
from storage.broker.arq_jobs import ArqJobQueue
from storage.broker.memory import MemoryBus, MemoryCache, MemoryJobQueue
from storage.broker.redis import RedisBus, RedisCache
from storage.eventlog.mongo import MongoEventLog
from storage.eventlog.sqlite import SqliteEventLog

log = logging.getLogger(__name__)


async def _set_up(name: str, action: Callable[[], Awaitable[None]]) -> None:
    try:
        await action()
    except Unavailable as error:
        log.warning("%s is not reachable at start-up (will retry): %s", name, error.message)


def _scheme(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else url.split(":", 1)[0]


async def open_event_log(settings: Settings) -> EventLog:
    url = settings.effective_event_log_url
    scheme = _scheme(url)
    if scheme == "sqlite":
        sqlite_log = SqliteEventLog.from_url(url)
        await sqlite_log.open()
        return sqlite_log
    if scheme == "mongodb":
        mongo_log = MongoEventLog(url)
        await _set_up("event log", mongo_log.ensure_indexes)
        return mongo_log
    raise ConfigError(f"INVIGILATOR_EVENT_LOG_URL: unsupported scheme {scheme!r}")


async def open_blob_store(settings: Settings) -> BlobStore:
    url = settings.effective_blob_url
    scheme = _scheme(url)
    if scheme == "file":
        local = LocalBlobStore(
            parse_file_url(url), settings.secret(), settings.effective_public_url
        )
        await local.open()
        return local
    if scheme == "s3":
        s3 = S3BlobStore.from_url(url)
        await _set_up("blob store", s3.open)
        return s3
    raise ConfigError(f"INVIGILATOR_BLOB_URL: unsupported scheme {scheme!r}")


async def open_broker(settings: Settings, jobs: JobRegistry) -> tuple[Cache, Bus, JobQueue]:
    """Cache, bus and job queue. Redis adapters connect lazily (``ping`` tells if Redis is up);
    the in-process queue runs jobs itself and needs ``set_context`` once services exist."""
    url = settings.broker_url
    scheme = _scheme(url)
    if scheme == "memory":
        return (
            MemoryCache(),
            MemoryBus(),
            MemoryJobQueue(jobs, concurrency=settings.worker_concurrency),
        )
    if scheme == "redis":
        return RedisCache(url), RedisBus(url), ArqJobQueue(url, jobs)
    raise ConfigError(f"INVIGILATOR_BROKER_URL: unsupported scheme {scheme!r}")
