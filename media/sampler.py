"""Analysis frames: the newest frame of each attempt, at most ``fps`` times a second.

Detectors share one BGR array per sampled frame, so the conversion from the decoder's YUV
happens here, once, and only for frames that are actually analysed; frames that arrive in
between are never converted (the tap just replaces its pointer).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from media.peer import PeerRegistry


class FrameSampler:
    def __init__(
        self,
        registry: PeerRegistry,
        fps: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.registry = registry
        self.interval = 1.0 / fps
        self.clock = clock
        self._last: dict[str, float] = {}
        self._intervals: dict[str, float] = {}

    def set_rate(self, attempt_id: str, fps: float | None) -> None:
        """Sample one attempt at its exam's own rate (``None`` goes back to the default)."""
        if fps is None:
            self._intervals.pop(attempt_id, None)
        elif fps <= 0:
            raise ValueError("fps must be positive")
        else:
            self._intervals[attempt_id] = 1.0 / fps

    def sample(self, attempt_id: str) -> np.ndarray | None:
        """The attempt's newest frame as ``(height, width, 3)`` uint8 BGR, or None when its
        slot is not due yet, it has no video, or nothing new arrived since the last sample."""
        peer = self.registry.get(attempt_id)
        if peer is None or not peer.video:
            self._last.pop(attempt_id, None)
            return None
        now = self.clock()
        interval = self._intervals.get(attempt_id, self.interval)
        if now - self._last.get(attempt_id, -interval) < interval:
            return None
        frame = peer.video[0].take()
        if frame is None:
            return None
        self._last[attempt_id] = now
        return frame.to_ndarray(format="bgr24")

    def sample_all(self) -> dict[str, np.ndarray]:
        """One due frame per attempt with a live peer; forgets attempts that went away."""
        for gone in set(self._last) - set(self.registry.peers):
            del self._last[gone]
        for gone in set(self._intervals) - set(self.registry.peers):
            del self._intervals[gone]
        frames = {}
        for attempt_id in list(self.registry.peers):
            array = self.sample(attempt_id)
            if array is not None:
                frames[attempt_id] = array
        return frames
