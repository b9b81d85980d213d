"""Who a sandbox runs as, and how many run at once.

As root, the server never lets bubblewrap keep uid 0: each concurrent sandbox takes one of
``max_parallel`` dedicated uids (``sandbox_uid``, ``sandbox_uid + 1``, ...) before bubblewrap
starts, so the user namespace it creates maps to an unprivileged host uid, an escape lands
nowhere useful, and per-uid kernel limits (RLIMIT_NPROC) and signals never cross from one
candidate's sandbox to another's. A slot is free again only after its sandbox was reaped, so a
uid is never shared by two live sandboxes.

Not root: the kernel only lets an unprivileged process map its own uid, so every sandbox runs
as the server's uid inside its user namespace; the pid namespace still hides the server's
processes, and the seccomp filter forbids ptrace.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    host_uid: int | None  # uid bubblewrap is started as; None: the server's own (not root)
    inner_uid: int  # uid the program sees inside the sandbox


class SlotPool:
    """A semaphore that also hands out the uid of the slot taken."""

    def __init__(self, size: int, first_uid: int) -> None:
        self.privileged = os.geteuid() == 0
        self.size = size
        self.first_uid = first_uid
        self._free: asyncio.Queue[Slot] = asyncio.Queue()
        for index in range(size):
            if self.privileged:
                self._free.put_nowait(Slot(first_uid + index, first_uid + index))
            else:
                self._free.put_nowait(Slot(None, os.geteuid()))

    def uids(self) -> list[int]:
        """Host uids sandboxes run as (tests look for survivors among them)."""
        if self.privileged:
            return [self.first_uid + index for index in range(self.size)]
        return [os.geteuid()]

    def describe(self) -> str:
        if self.privileged:
            last = self.first_uid + self.size - 1
            return f"dedicated uids {self.first_uid}-{last}"
        return f"the server's uid {os.geteuid()} (not root: no dedicated uids)"

    @contextlib.asynccontextmanager
    async def take(self) -> AsyncIterator[Slot]:
        slot = await self._free.get()
        try:
            yield slot
        finally:
            self._free.put_nowait(slot)
