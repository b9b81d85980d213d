"""Every peer, task, thread and socket is released on disconnect: 1,000 connect/disconnect
cycles of a real aiortc client leave the process as they found it.

Most cycles are the reload storm: the client's offer (camera, microphone, telemetry channel) is
answered, so the server gathers candidates, opens its sockets and wires its taps, and then the
connection goes away before ICE completes, by each of the ways it can go (a new offer for the
attempt replaces it, the page's DELETE, the sign-in session being revoked). Every
``CONNECT_EVERY``-th cycle connects for real over loopback: frames, audio and telemetry arrive,
a proctor watches, and then the candidate's client closes and the server must notice and drop
the peer (and the watcher) by itself.

Growth is measured against a baseline taken after one warm-up cycle of each kind, because the
first connection creates things meant to live as long as the process (the event loop's
executor thread, codec tables).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import threading
from collections.abc import Callable

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcdatachannel import RTCDataChannel

from media.config import MediaConfig
from media.peer import Peer, PeerRegistry
from media.relay import Source, Watcher
from media.taps import Telemetry, _Consumer
from tests.proctoring.test_loopback import Pattern, wait_for
from tests.proctoring.watching import Proctor, Tone

CYCLES = 1000
CONNECT_EVERY = 50  # 20 real connections; the rest are answered and dropped before ICE
TASK_MARGIN = 2
FD_MARGIN = 3
RSS_GROWTH_LIMIT = 64 * 1024 * 1024  # observed: under 20 MiB, all of it in the first cycles
USER = "7"

pytestmark = pytest.mark.timeout(300)

LIVE_TYPES: tuple[type, ...] = (RTCPeerConnection, Peer, Watcher, Source, _Consumer)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def live_objects() -> dict[str, int]:
    """Instances of the media classes still reachable after a full collection."""
    gc.collect()
    counts = {kind.__name__: 0 for kind in LIVE_TYPES}
    counts["MediaStreamTrack"] = 0
    for obj in gc.get_objects():
        for kind in LIVE_TYPES:
            if isinstance(obj, kind):
                counts[kind.__name__] += 1
        if isinstance(obj, MediaStreamTrack):
            counts["MediaStreamTrack"] += 1
    return counts


def released() -> bool:
    return not any(live_objects().values())


async def settle(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Wait for background teardown (closing tasks, decoder threads) to finish; no assertion."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate() and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return predicate()


async def client_offer() -> tuple[RTCPeerConnection, RTCDataChannel]:
    """A candidate's browser: camera, microphone and the telemetry channel, offer gathered."""
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    client.addTrack(Pattern())
    client.addTrack(Tone())
    channel = client.createDataChannel("telemetry")
    await client.setLocalDescription(await client.createOffer())
    return client, channel


async def storm_cycle(registry: PeerRegistry, index: int) -> None:
    """Answer an offer, then lose the connection before ICE completes, one way or another."""
    attempt = f"storm{index % 2}"
    session = f"s{index}"
    client, _ = await client_offer()
    try:
        await registry.answer(
            attempt, client.localDescription.sdp, user_id=USER, session_id=session
        )
        way = index % 3
        if way == 1:
            assert await registry.close(attempt)  # the page's DELETE …/rtc
        elif way == 2:
            assert await registry.close_where(session_id=session) == 1  # signed out
        # way 0: left open; the next offer for this attempt (a reload) replaces it
    finally:
        await client.close()


async def connected_cycle(registry: PeerRegistry, index: int, telemetry: list[str]) -> None:
    """Connect for real, receive, be watched, then the candidate's side goes away."""
    attempt = f"live{index}"
    client, channel = await client_offer()
    proctor = Proctor()
    try:
        answer = await registry.answer(attempt, client.localDescription.sdp, user_id=USER)
        await client.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        peer = registry.get(attempt)
        assert peer is not None
        await wait_for(lambda: bool(peer.video) and peer.video[0].received >= 3)
        await wait_for(lambda: bool(peer.audio) and peer.audio[0].chunks >= 1)

        watched = await registry.watch(attempt, await proctor.offer(), user_id="proctor")
        await proctor.accept(watched)
        await wait_for(lambda: proctor.received.video_count >= 1)

        await wait_for(lambda: channel.readyState == "open")
        channel.send(json.dumps({"type": "blur"}))
        before = len(telemetry)
        await wait_for(lambda: len(telemetry) > before)

        # The candidate's browser goes away: DTLS close_notify, and the server drops the
        # peer and its watcher on its own, with nobody calling the registry.
        await client.close()
        await wait_for(lambda: registry.get(attempt) is None and peer.closed)
        assert peer.watchers == {}
    finally:
        await client.close()
        await proctor.close()


async def test_a_thousand_cycles_release_everything() -> None:
    telemetry: list[str] = []

    def on_telemetry(attempt_id: str, message: Telemetry) -> None:
        telemetry.append(message.type)

    registry = PeerRegistry(MediaConfig(bind_loopback=True), on_telemetry=on_telemetry)
    try:
        await connected_cycle(registry, -1, telemetry)  # warm-up: process-lifetime things
        await storm_cycle(registry, -1)
        await registry.close_all()
        # aiortc finishes a closed connection's ICE task a few event-loop turns later.
        assert await settle(released), live_objects()
        tasks = len(asyncio.all_tasks())
        threads = threading.active_count()
        fds = open_fds()
        rss = rss_bytes()

        for index in range(CYCLES):
            if index % CONNECT_EVERY == CONNECT_EVERY - 1:
                await connected_cycle(registry, index, telemetry)
            else:
                await storm_cycle(registry, index)
    finally:
        await registry.close_all()

    assert registry.peers == {}
    assert registry.created == registry.released == CYCLES + 2
    connected = CYCLES // CONNECT_EVERY + 1
    assert registry.watchers_created == registry.watchers_released == connected
    assert telemetry == ["blur"] * connected

    assert await settle(lambda: len(asyncio.all_tasks()) <= tasks + TASK_MARGIN), [
        task.get_coro() for task in asyncio.all_tasks()
    ]
    assert await settle(lambda: threading.active_count() <= threads), [
        thread.name for thread in threading.enumerate()
    ]
    assert await settle(lambda: open_fds() <= fds + FD_MARGIN), os.listdir("/proc/self/fd")
    assert await settle(released), live_objects()
    growth = rss_bytes() - rss
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / 2**20:.1f} MiB"
