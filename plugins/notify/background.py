"""The notifications sweeper: due reminders, due retries, digests and the mail outbox.

It runs every ``[notify.reminders] sweep_seconds`` in each web process, and as the job
``notify.sweep`` for deployments that prefer a scheduler. Every step claims its rows with a
compare-and-swap, so several processes sweeping at once send each message once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from core.services import Services
from plugins.notify import delivery, dispatch, outbox_relay, reminders, violations

log = logging.getLogger("invigilator.notify")

SWEEP_JOB = "notify.sweep"
_tasks: dict[int, asyncio.Task[None]] = {}


async def sweep_once(services: Services) -> dict[str, int]:
    """One pass of every step; a failing step is logged and the others still run."""
    done: dict[str, int] = {}
    steps = {
        "reminders": reminders.sweep_due,
        "digest": violations.flush_digest,
        "messages": delivery.sweep,
        "outbox": outbox_relay.relay,
    }
    for name, step in steps.items():
        try:
            done[name] = await step(services)
        except Exception:
            log.exception("notify: sweep step %s failed", name)
            done[name] = -1
    return done


async def sweep_job(ctx: dict[str, Any]) -> dict[str, int]:
    """Job ``notify.sweep``."""
    return await sweep_once(ctx["services"])


async def _loop(services: Services) -> None:
    period = dispatch.config(services).reminders.sweep_seconds
    while True:
        await asyncio.sleep(period)
        await sweep_once(services)


async def start(services: Services) -> None:
    _tasks[id(services)] = asyncio.get_running_loop().create_task(_loop(services))


async def stop(services: Services) -> None:
    task = _tasks.pop(id(services), None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
