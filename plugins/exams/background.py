"""What every process runs beside the requests: outage detection, heartbeat and the sweeper.

At start-up the process first looks for an outage (and credits it), then starts two loops: the
heartbeat, which keeps the shared heartbeat row fresh, and the sweeper, which auto-submits
overdue attempts and announces results that opened when their exam closed (``release.py``).
Running the sweeper in every process is deliberate: it makes auto-submit independent of the job
broker, of any one process surviving, and of the browser coming back. Sweeping twice is
harmless, since closing an attempt and stamping a release are conditional updates.

A loop never dies on an error (the database may be down, or not migrated yet); it logs the
error once until it changes, and tries again at the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from core.services import Services
from plugins.exams import attempts, clock, release
from plugins.exams.config import ExamsConfig

log = logging.getLogger(__name__)

_tasks: dict[int, list[asyncio.Task[None]]] = {}


async def check_outage(services: Services, config: ExamsConfig) -> clock.Outage | None:
    async with services.db.session() as db:
        outage = await clock.detect_outage(
            db,
            clock.now(),
            threshold_seconds=config.outage_threshold_seconds,
            credit=config.auto_credit_outages,
        )
    if outage is not None and outage.credited:
        await clock.record_credits(services, outage.credited, outage.seconds, "outage")
    return outage


async def beat_once(services: Services) -> None:
    async with services.db.session() as db:
        await clock.beat(db, clock.now())


async def sweep_once(services: Services) -> int:
    swept = await attempts.sweep_overdue(services)
    await release.release_closed(services)
    return swept


async def _loop(name: str, interval: float, step: Callable[[], Awaitable[object]]) -> None:
    last_error = ""
    while True:
        try:
            await step()
            last_error = ""
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if str(error) != last_error:
                log.warning("exams %s failed (retrying every %.0f s): %s", name, interval, error)
                last_error = str(error)
        await asyncio.sleep(interval)


async def start(services: Services) -> None:
    """Detect an outage, then start the heartbeat and the sweeper for this process."""
    config = services.section("exams", ExamsConfig)
    try:
        await check_outage(services, config)
    except Exception as error:  # not migrated yet, or the database is down: serve anyway
        log.warning("exams: outage check skipped: %s", error)
    _tasks[id(services)] = [
        asyncio.create_task(
            _loop("heartbeat", config.heartbeat_seconds, lambda: beat_once(services)),
            name="exams-heartbeat",
        ),
        asyncio.create_task(
            _loop("sweeper", config.sweep_interval_seconds, lambda: sweep_once(services)),
            name="exams-sweeper",
        ),
    ]


async def stop(services: Services) -> None:
    """Stop this process's loops and record a last heartbeat while the database is open."""
    tasks = _tasks.pop(id(services), [])
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    with contextlib.suppress(Exception):
        await beat_once(services)
