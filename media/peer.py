"""One server-side RTCPeerConnection per attempt, and the registry that owns them all.

The registry is the only place that creates or closes a peer, so "every peer, task and track
consumer is released" is checked in one function (:meth:`PeerRegistry._release`). A new offer
for an attempt replaces its old peer (a page reload or a network change reconnects), and a
peer that fails or closes on its own removes itself. Two offers for one attempt answered at
the same time (a reload storm) leave one peer: the later registration replaces the earlier one.
Offer/answer exchanges and releases run in tasks of their own that the caller awaits through
:func:`asyncio.shield`: a cancelled caller (a request given up, a shutdown) can neither stop a
release half-way nor interrupt aioice's gathering (which would leave its sockets open), and
:meth:`PeerRegistry.close_all` waits for every release.

Every incoming track goes through the peer's :class:`media.relay.PeerRelay`: the taps and each
proctor's :class:`media.relay.Watcher` hold their own subscription. Watchers belong to the
candidate's peer, so closing or replacing it (a reconnect) closes them too; the proctor's page
watches again by itself.

Gathering on loopback: aioice's interface scan drops 127.0.0.1 and offers no option to add it.
Rather than patching ``aioice.ice.get_host_addresses`` for the whole process, each peer's ICE
connections get their address list rewritten on the instance, before gathering starts; two
registries with different settings (tests, several media workers) never affect each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcdatachannel import RTCDataChannel

from media.config import MediaConfig
from media.relay import NotWatchable, PeerRelay, Watcher, WatcherLimit
from media.sdp import SdpRejected, check_offer
from media.taps import AudioChunks, LatestFrame, Telemetry, TelemetryHandler

__all__ = [  # the SDP checks moved to media.sdp; callers keep importing them from here
    "Peer",
    "PeerLimit",
    "PeerRegistry",
    "SdpRejected",
    "TelemetrySink",
    "check_offer",
]
log = logging.getLogger(__name__)

TelemetrySink = Callable[[str, Telemetry], None]
"""Called with (attempt_id, message) for each accepted telemetry message."""


class PeerLimit(RuntimeError):
    """The user already holds as many peers as allowed."""


@dataclass
class Peer:
    attempt_id: str
    user_id: str
    session_id: str | None
    pc: RTCPeerConnection
    video: list[LatestFrame] = field(default_factory=list)
    audio: list[AudioChunks] = field(default_factory=list)
    telemetry: TelemetryHandler | None = None
    relay: PeerRelay = field(default_factory=PeerRelay)
    watchers: dict[str, Watcher] = field(default_factory=dict)  # by the watching user's id
    closed: bool = False

    @property
    def state(self) -> str:
        return str(self.pc.connectionState)


class PeerRegistry:
    def __init__(self, config: MediaConfig, on_telemetry: TelemetrySink | None = None) -> None:
        self.config = config
        self.on_telemetry = on_telemetry
        self.peers: dict[str, Peer] = {}
        self.created = 0
        self.released = 0
        self.watchers_created = 0
        self.watchers_released = 0
        self._closing: set[asyncio.Task[None]] = set()

    def get(self, attempt_id: str) -> Peer | None:
        return self.peers.get(attempt_id)

    async def answer(
        self, attempt_id: str, offer_sdp: str, *, user_id: str, session_id: str | None = None
    ) -> str:
        """Answer ``offer_sdp`` with a new peer for the attempt, replacing any older one."""
        check_offer(offer_sdp, self.config)
        others = [p for p in self.peers.values() if p.user_id == user_id]
        if len([p for p in others if p.attempt_id != attempt_id]) >= self.config.max_peers_per_user:
            raise PeerLimit(f"at most {self.config.max_peers_per_user} live connections per user")
        await self.close(attempt_id)
        pc = self._new_pc()
        peer = Peer(attempt_id, user_id, session_id, pc)
        self.created += 1  # counted when made: a rejected or cancelled offer is released too
        self._wire(peer)
        try:
            sdp = await self._uninterrupted(
                self._answering(pc, offer_sdp), lambda: self._release(peer)
            )
        except Exception as exc:  # aiortc raises many types for odd SDP; none may be a 500
            await self._release(peer)
            raise SdpRejected("invalid_sdp", f"the offer could not be answered: {exc}") from exc
        # Another offer for the attempt (a reload while this one was answered) may have been
        # registered meanwhile: it is replaced like any older peer, not overwritten and lost.
        displaced = self.peers.get(attempt_id)
        self.peers[attempt_id] = peer
        if displaced is not None:
            await self._release(displaced)
        return sdp

    async def _answering(self, pc: RTCPeerConnection, offer_sdp: str) -> str:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        self._rewrite_gathering(pc)
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    async def _uninterrupted(
        self,
        exchange: Coroutine[Any, Any, str],
        undo: Callable[[], Coroutine[Any, Any, None]],
    ) -> str:
        """Run an offer/answer exchange to its end even when the caller is cancelled.

        aioice cannot be interrupted while it gathers: a socket it opened before a cancel (or a
        close) is never closed. A cancelled caller (a shutdown, a request given up) therefore
        leaves the exchange running in a task of its own, and ``undo`` releases what it built
        once it is over.
        """
        task = asyncio.get_running_loop().create_task(exchange)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done():
                self._spawn(self._undo_after(task, undo))
            else:
                self._spawn(undo())
            raise

    async def _undo_after(
        self, task: asyncio.Task[str], undo: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await task
        await undo()

    def _new_pc(self) -> RTCPeerConnection:
        servers = [
            RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
            for s in self.config.ice_servers
        ]
        return RTCPeerConnection(RTCConfiguration(iceServers=servers))

    def _wire(self, peer: Peer) -> None:
        pc = peer.pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if peer.closed or len(peer.video) + len(peer.audio) >= self.config.max_tracks_per_peer:
                return
            if track.kind == "video":
                video = LatestFrame(peer.relay.subscribe(peer.relay.add(track)))
                peer.video.append(video)
                video.start()
            elif track.kind == "audio":
                source = peer.relay.subscribe(peer.relay.add(track))
                audio = AudioChunks(source, self.config.audio_ring_chunks)
                peer.audio.append(audio)
                audio.start()

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label != "telemetry" or peer.telemetry is not None:
                return
            handler = TelemetryHandler(
                lambda message: self._deliver(peer, message),
                max_bytes=self.config.telemetry_max_bytes,
                per_second=self.config.telemetry_per_second,
                burst=self.config.telemetry_burst,
            )
            peer.telemetry = handler
            channel.on("message", handler)

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and not peer.closed:
                self._spawn(self._drop(peer))

    def _spawn(self, closing: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a close from a synchronous callback as a task that ``close_all`` waits for."""
        task = asyncio.get_running_loop().create_task(closing)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return task

    async def _to_the_end(self, closing: Coroutine[Any, Any, None]) -> None:
        """Await a close that the caller's cancellation cannot stop half-way.

        A request handler can be cancelled (shutdown, a client gone); a release interrupted
        after marking the peer closed would never run again, leaving its sockets and tasks.
        """
        await asyncio.shield(self._spawn(closing))

    def _deliver(self, peer: Peer, message: Telemetry) -> None:
        if self.on_telemetry is not None and not peer.closed:
            self.on_telemetry(peer.attempt_id, message)

    def _rewrite_gathering(self, pc: RTCPeerConnection) -> None:
        """Make every ICE connection of ``pc`` gather on the configured addresses."""
        if not self.config.changes_gathering:
            return
        transports = [t.receiver.transport for t in pc.getTransceivers()]
        if pc.sctp is not None:
            transports.append(pc.sctp.transport)
        for dtls in transports:
            connection: Any = dtls.transport.iceGatherer._connection
            if getattr(connection, "_invigilator_addresses", False):
                continue
            connection.get_component_candidates = self._gathering(
                connection.get_component_candidates
            )
            connection._invigilator_addresses = True

    def _gathering(self, original: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        async def gather(component: int, addresses: list[str], timeout: int = 5) -> Any:
            chosen = self.config.gather_addresses(addresses)
            return await original(component=component, addresses=chosen, timeout=timeout)

        return gather

    async def _drop(self, peer: Peer) -> None:
        if self.peers.get(peer.attempt_id) is peer:
            del self.peers[peer.attempt_id]
        await self._release(peer)

    async def _release(self, peer: Peer) -> None:
        if peer.closed:
            return
        peer.closed = True
        await self._to_the_end(self._teardown(peer))

    async def _teardown(self, peer: Peer) -> None:
        for watcher in list(peer.watchers.values()):
            await self._end_watcher(peer, watcher)
        for tap in [*peer.video, *peer.audio]:
            await tap.stop()
        await peer.relay.close()
        with contextlib.suppress(Exception):
            await peer.pc.close()
        self.released += 1

    async def close(self, attempt_id: str) -> bool:
        """Close the attempt's peer; False when it had none."""
        peer = self.peers.pop(attempt_id, None)
        if peer is None:
            return False
        await self._release(peer)
        return True

    async def watch(
        self, attempt_id: str, offer_sdp: str, *, user_id: str, session_id: str | None = None
    ) -> str:
        """Answer a proctor's receive-only offer with the attempt's relayed tracks.

        One watcher per person and attempt: a new offer replaces theirs (a reload). The slot
        is taken before answering, so concurrent offers cannot pass the limit together.
        """
        check_offer(offer_sdp, self.config, receive_only=True)
        peer = self.peers.get(attempt_id)
        if peer is None or peer.closed:
            raise NotWatchable(f"attempt {attempt_id} has no live connection here")
        others = [w for w in peer.watchers.values() if w.user_id != user_id]
        if len(others) >= self.config.max_watchers_per_attempt:
            raise WatcherLimit(f"at most {self.config.max_watchers_per_attempt} watchers")
        watcher = Watcher(attempt_id, user_id, session_id, self._new_pc())
        old = peer.watchers.get(user_id)
        peer.watchers[user_id] = watcher
        self.watchers_created += 1

        @watcher.pc.on("connectionstatechange")
        def on_state() -> None:
            if watcher.pc.connectionState in ("failed", "closed") and not watcher.closed:
                self._spawn(self._end_watcher(peer, watcher))

        exchanging = False
        try:
            if old is not None:
                await self._end_watcher(peer, old)
            exchanging = True
            sdp = await self._uninterrupted(
                watcher.negotiate(offer_sdp, peer.relay, self._rewrite_gathering),
                lambda: self._end_watcher(peer, watcher),
            )
        except Exception as exc:  # aiortc raises many types for odd SDP; none may be a 500
            gone = watcher.closed  # the candidate's peer closed meanwhile
            await self._end_watcher(peer, watcher)
            if gone:
                raise NotWatchable(f"attempt {attempt_id} closed its connection") from exc
            raise SdpRejected("invalid_sdp", f"the offer could not be answered: {exc}") from exc
        except BaseException:  # cancelled: free the slot (after the exchange, if it began)
            if not exchanging:
                self._spawn(self._end_watcher(peer, watcher))
            raise
        if watcher.closed:
            raise NotWatchable(f"attempt {attempt_id} closed its connection")
        return sdp

    async def unwatch(self, attempt_id: str, user_id: str) -> bool:
        """Close this person's watcher of the attempt; False when there was none."""
        peer = self.peers.get(attempt_id)
        watcher = peer.watchers.get(user_id) if peer is not None else None
        if peer is None or watcher is None:
            return False
        await self._end_watcher(peer, watcher)
        return True

    async def _end_watcher(self, peer: Peer, watcher: Watcher) -> None:
        if peer.watchers.get(watcher.user_id) is watcher:
            del peer.watchers[watcher.user_id]
        await self._to_the_end(self._close_watcher(watcher))

    async def _close_watcher(self, watcher: Watcher) -> None:
        if await watcher.close():
            self.watchers_released += 1

    async def close_where(
        self, *, user_id: str | None = None, session_id: str | None = None
    ) -> int:
        """Close the peers and watchers of a user or of one sign-in session; how many."""

        def chosen(c: Peer | Watcher) -> bool:
            return (user_id is not None and c.user_id == user_id) or (
                session_id is not None and c.session_id == session_id
            )

        watching = [(p, w) for p in self.peers.values() for w in p.watchers.values() if chosen(w)]
        for peer, watcher in watching:
            await self._end_watcher(peer, watcher)
        peers = [p.attempt_id for p in self.peers.values() if chosen(p)]
        for attempt_id in peers:
            await self.close(attempt_id)
        return len(peers) + len(watching)

    async def close_all(self) -> None:
        for attempt_id in list(self.peers):
            await self.close(attempt_id)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
