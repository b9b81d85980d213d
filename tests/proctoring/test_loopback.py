"""A real aiortc peer in the same process sends a synthetic camera to the registry: frames and
telemetry arrive over ICE on 127.0.0.1, and closing releases everything."""

from __future__ import annotations

import asyncio
import fractions
import json

import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import VideoStreamTrack

from media.config import MediaConfig
from media.peer import PeerRegistry
from media.sampler import FrameSampler
from media.taps import Telemetry


class Pattern(VideoStreamTrack):
    """A 320x240 moving gradient at aiortc's default 30 fps pacing."""

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        row = (np.arange(320, dtype=np.uint16) + pts // 3000) % 256
        array = np.broadcast_to(row.astype(np.uint8)[None, :, None], (240, 320, 3)).copy()
        frame = av.VideoFrame.from_ndarray(array, format="bgr24")
        frame.pts, frame.time_base = pts, fractions.Fraction(time_base)
        return frame


async def wait_for(predicate: object, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_frames_and_telemetry_arrive_over_loopback() -> None:
    got: list[tuple[str, Telemetry]] = []
    registry = PeerRegistry(
        MediaConfig(bind_loopback=True), on_telemetry=lambda a, m: got.append((a, m))
    )
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    client.addTrack(Pattern())
    channel = client.createDataChannel("telemetry")
    await client.setLocalDescription(await client.createOffer())
    sdp = client.localDescription.sdp
    try:
        answer = await registry.answer("att1", sdp, user_id="7", session_id="s1")
        assert "127.0.0.1" in answer
        await client.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        peer = registry.get("att1")
        assert peer is not None
        await wait_for(lambda: peer.video and peer.video[0].received >= 5)
        sampler = FrameSampler(registry, fps=2)
        array = sampler.sample("att1")
        assert array is not None
        assert array.shape == (240, 320, 3)
        assert sampler.sample("att1") is None  # not due again yet

        await wait_for(lambda: channel.readyState == "open")
        channel.send(json.dumps({"type": "blur"}))
        channel.send("garbage")
        await wait_for(lambda: got)
        assert got == [("att1", Telemetry("blur", {}))]
        assert peer.telemetry is not None
        assert peer.telemetry.rejected == 1

        assert await registry.close_where(session_id="s1") == 1
        assert registry.peers == {}
        assert peer.closed
        assert all(t.task is None for t in peer.video)
    finally:
        await client.close()
        await registry.close_all()
    assert registry.created == registry.released == 1
