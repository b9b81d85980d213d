"""End to end through the real app: a candidate's WebRTC camera showing a real face photograph
produces ``observation.face`` events in the event log, and the pipeline's counters move."""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import VideoStreamTrack

from core.services import Services
from plugins.proctoring.plugin import analysis_for
from storage.tables.user import User
from tests.exams.support import Client
from tests.proctoring.test_signaling import post

data = pytest.importorskip("skimage.data")


class Photo(VideoStreamTrack):
    """The astronaut photograph (512x512) as a 30 fps camera."""

    def __init__(self) -> None:
        super().__init__()
        self.image = np.ascontiguousarray(data.astronaut()[:, :, ::-1])

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame.from_ndarray(self.image, format="bgr24")
        frame.pts, frame.time_base = pts, fractions.Fraction(time_base)
        return frame


async def test_a_streamed_face_becomes_observation_events(
    client: Client, services: Services, candidate: User, attempt_id: str
) -> None:
    analysis = analysis_for(services)
    assert analysis is not None
    assert "face" in analysis.pipeline.detectors
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(Photo())
    await pc.setLocalDescription(await pc.createOffer())
    try:
        status, body = await post(
            client, candidate, attempt_id, {"sdp": pc.localDescription.sdp, "type": "offer"}
        )
        assert status == 200, body
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type="answer"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        events = []
        while len(events) < 2:
            assert loop.time() < deadline, "no face observations arrived"
            await asyncio.sleep(0.1)
            events = await services.events.query(attempt_id=attempt_id, kinds=["observation.face"])
    finally:
        await pc.close()
    event = events[0]
    assert event.source == "face"
    assert event.data["count"] == 1
    assert len(event.data["boxes"]) == 1
    assert event.data["confidence"] > 0.5
    stats = analysis.pipeline.stats()["face"]
    assert stats.runs >= 2
    assert stats.failures == 0
