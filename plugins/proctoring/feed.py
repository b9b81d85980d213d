"""Fan-out of the live feed to the proctor WebSockets this process holds.

One bus subscription per process (not one per proctor) keeps Redis connections flat however
many walls are open. Each socket gets a bounded queue: a wall that cannot keep up is closed
(it reconnects and starts again from a fresh ``hello``) rather than making everyone wait or
holding an ever-growing backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from core.channels import PROCTOR_LIVE
from core.services import Services

log = logging.getLogger(__name__)

QUEUE_LIMIT = 2000


@dataclass(eq=False)
class Subscriber:
    exam_id: int | None
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False

    def admits(self, message: dict[str, Any]) -> bool:
        if self.exam_id is None:
            return True
        exam = message.get("exam_id", (message.get("tile") or {}).get("exam_id"))
        return exam == self.exam_id


class LiveFeed:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.subscribers: set[Subscriber] = set()
        self.task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    def subscribe(self, exam_id: int | None) -> Subscriber:
        subscriber = Subscriber(exam_id)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def deliver(self, message: dict[str, Any]) -> None:
        for subscriber in list(self.subscribers):
            if subscriber.overflowed or not subscriber.admits(message):
                continue
            try:
                subscriber.queue.put_nowait(message)
            except asyncio.QueueFull:
                subscriber.overflowed = True
                subscriber.queue = asyncio.Queue(1)
                subscriber.queue.put_nowait({"type": "overflow"})

    async def _run(self) -> None:
        while True:
            try:
                async with self.services.bus.subscribe(PROCTOR_LIVE) as messages:
                    self.ready.set()
                    async for raw in messages:
                        try:
                            message = json.loads(raw)
                        except ValueError:
                            log.warning("ignored a malformed proctoring.live message")
                            continue
                        if isinstance(message, dict):
                            self.deliver(message)
                return  # the bus closed: the process is stopping
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("proctoring: live feed subscription failed; resubscribing")
                await asyncio.sleep(1)

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for subscriber in list(self.subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                subscriber.queue.put_nowait({"type": "shutdown"})
