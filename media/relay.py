"""Fan-out of a candidate's incoming tracks, and the proctors' connections that watch them.

aiortc's :class:`MediaRelay` reads each incoming track once and hands every frame to each
subscriber, so the analysis taps and any number of watching proctors share one decoder. Every
subscription is unbuffered: a subscriber slower than the camera (a watcher's encoder, a busy
tap) gets the newest frame and skips the rest, so nothing ever queues behind it.

The relay's reader task only ends when its source raises ``MediaStreamError``, and aiortc ends a
remote track only from its decoder thread, which starts once the connection is up: a candidate
who posts an offer and never connects would leave a reader waiting forever. Each incoming track
is therefore wrapped in a :class:`Source` that can be ended from our side; ending it turns the
read in progress into the end of the track, so the relay's own end-of-track path runs (every
subscriber sees the end, the relay forgets the source) and no task outlives the peer.

A :class:`Watcher` is one proctor's own RTCPeerConnection: the proctor's browser offers
receive-only audio and video and the answer sends relayed tracks, so the candidate's browser
keeps a single connection however many people watch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.sdp import KINDS


class NotWatchable(LookupError):
    """The attempt has no live connection in this process (or it closed while answering)."""


class WatcherLimit(RuntimeError):
    """The attempt already has as many watchers as allowed."""


class Source(MediaStreamTrack):
    """An incoming track as the relay reads it, endable from our side at any time."""

    def __init__(self, track: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = track.kind
        self.track = track
        self.reader: asyncio.Task[Any] | None = None  # the relay task that reads us
        self._reading = False
        self._ending = False

    async def recv(self) -> Any:
        if self._ending or self.readyState != "live":
            raise MediaStreamError
        self.reader = asyncio.current_task()
        self._reading = True
        try:
            return await self.track.recv()
        except asyncio.CancelledError:
            if not self._ending or self.reader is None:
                raise
            self.reader.uncancel()  # our own cancel, turned into the end of the track
            raise MediaStreamError from None
        finally:
            self._reading = False

    async def end(self) -> None:
        """End the track for every subscriber and wait until the relay's reader is gone."""
        self._ending = True
        reader = self.reader
        if reader is not None and not reader.done():
            if self._reading:
                reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({reader})
        self.stop()
        self.track.stop()


class PeerRelay:
    """One peer's sources and every live subscription to them (taps and watchers alike)."""

    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.sources: list[Source] = []
        self.subscriptions: set[MediaStreamTrack] = set()
        self.closed = False

    def add(self, track: MediaStreamTrack) -> Source:
        source = Source(track)
        self.sources.append(source)
        return source

    def of_kind(self, kind: str) -> list[Source]:
        return [s for s in self.sources if s.kind == kind]

    def subscribe(self, source: Source) -> MediaStreamTrack:
        """A new unbuffered subscription; it is forgotten when it is stopped or the source ends."""
        proxy = self.relay.subscribe(source, buffered=False)
        self.subscriptions.add(proxy)
        proxy.on("ended", lambda: self.subscriptions.discard(proxy))
        return proxy

    async def close(self) -> None:
        self.closed = True
        for source in self.sources:
            await source.end()
        for proxy in list(self.subscriptions):  # subscriptions nobody ever read from
            proxy.stop()
        self.sources.clear()


@dataclass
class Watcher:
    """One proctor watching one attempt over their own connection."""

    attempt_id: str
    user_id: str
    session_id: str | None
    pc: RTCPeerConnection
    tracks: list[MediaStreamTrack] = field(default_factory=list)
    closed: bool = False
    # Held while the offer is answered: closing waits for it, because closing the connection
    # while aioice gathers leaves the sockets it opens afterwards bound for good.
    exchange: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def state(self) -> str:
        return str(self.pc.connectionState)

    async def negotiate(
        self, offer_sdp: str, relay: PeerRelay, prepare: Callable[[RTCPeerConnection], None]
    ) -> str:
        """Answer the receive-only offer, sending one relayed source per offered section.

        ``prepare`` runs between the two descriptions (the loopback-gathering rewrite). A
        section the candidate has no track for is answered inactive.
        """
        async with self.exchange:
            pc = self.pc
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            prepare(pc)
            for kind in KINDS:
                sources = relay.of_kind(kind)
                for transceiver in pc.getTransceivers():
                    if transceiver.kind != kind:
                        continue
                    if not sources or self.closed:
                        transceiver.direction = "inactive"
                        continue
                    track = relay.subscribe(sources.pop(0))
                    self.tracks.append(track)
                    transceiver.sender.replaceTrack(track)
                    transceiver.direction = "sendonly"
            await pc.setLocalDescription(await pc.createAnswer())
            return str(pc.localDescription.sdp)

    async def close(self) -> bool:
        """Stop the subscriptions and the connection; False when it was already closed."""
        if self.closed:
            return False
        self.closed = True
        for track in self.tracks:
            track.stop()
        async with self.exchange:
            with contextlib.suppress(Exception):
                await self.pc.close()
        return True
