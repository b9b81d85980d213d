"""One server-side RTCPeerConnection per attempt, and the registry that owns them all.

The registry is the only place that creates or closes a peer, so "every peer, task and track
consumer is released" is checked in one function (:meth:`PeerRegistry._release`). A new offer
for an attempt replaces its old peer (a page reload or a network change reconnects), and a
peer that fails or closes on its own removes itself.

Gathering on loopback: aioice's interface scan drops 127.0.0.1 and offers no option to add it.
Rather than patching ``aioice.ice.get_host_addresses`` for the whole process, each peer's ICE
connections get their address list rewritten on the instance, before gathering starts; two
registries with different settings (tests, several media workers) never affect each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcdatachannel import RTCDataChannel
from aiortc.sdp import SessionDescription

from media.config import MediaConfig
from media.taps import AudioChunks, LatestFrame, Telemetry, TelemetryHandler

log = logging.getLogger(__name__)

TelemetrySink = Callable[[str, Telemetry], None]
"""Called with (attempt_id, message) for each accepted telemetry message."""


class SdpRejected(ValueError):
    """The offer cannot be answered; ``code`` is the stable error code for the API."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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
        servers = [
            RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
            for s in self.config.ice_servers
        ]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        peer = Peer(attempt_id, user_id, session_id, pc)
        self._wire(peer)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            self._rewrite_gathering(pc)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # aiortc raises many types for odd SDP; none may be a 500
            await self._release(peer)
            raise SdpRejected("invalid_sdp", f"the offer could not be answered: {exc}") from exc
        self.peers[attempt_id] = peer
        self.created += 1
        return str(pc.localDescription.sdp)

    def _wire(self, peer: Peer) -> None:
        pc = peer.pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if peer.closed or len(peer.video) + len(peer.audio) >= self.config.max_tracks_per_peer:
                return
            if track.kind == "video":
                video = LatestFrame(track)
                peer.video.append(video)
                video.start()
            elif track.kind == "audio":
                audio = AudioChunks(track, self.config.audio_ring_chunks)
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
                task = asyncio.get_running_loop().create_task(self._drop(peer))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

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
        for tap in [*peer.video, *peer.audio]:
            await tap.stop()
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

    async def close_where(
        self, *, user_id: str | None = None, session_id: str | None = None
    ) -> int:
        """Close the peers of a user or of one sign-in session; how many were closed."""
        chosen = [
            p.attempt_id
            for p in self.peers.values()
            if (user_id is not None and p.user_id == user_id)
            or (session_id is not None and p.session_id == session_id)
        ]
        for attempt_id in chosen:
            await self.close(attempt_id)
        return len(chosen)

    async def close_all(self) -> None:
        for attempt_id in list(self.peers):
            await self.close(attempt_id)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


def check_offer(sdp: str, config: MediaConfig) -> None:
    """Refuse an offer before aiortc sees it: size, parseability, media sections."""
    if len(sdp.encode()) > config.max_sdp_bytes:
        raise SdpRejected("sdp_too_large", f"the offer exceeds {config.max_sdp_bytes} bytes")
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as exc:  # the parser raises ValueError, IndexError, KeyError, ...
        raise SdpRejected("invalid_sdp", f"the offer is not valid SDP: {exc}") from exc
    if not parsed.media:
        raise SdpRejected("invalid_sdp", "the offer has no media sections")
    for media in parsed.media:
        if media.dtls is None or not media.dtls.fingerprints:
            # aiortc would answer and then fail the DTLS handshake; refuse it up front.
            raise SdpRejected("invalid_sdp", f"the {media.kind} section has no DTLS fingerprint")
    tracks = [m for m in parsed.media if m.kind in ("audio", "video")]
    if len(tracks) > config.max_tracks_per_peer:
        raise SdpRejected(
            "too_many_tracks", f"at most {config.max_tracks_per_peer} tracks per connection"
        )
