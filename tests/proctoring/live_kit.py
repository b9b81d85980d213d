"""Shared pieces of the live-path tests: a camera the test controls, a proctored attempt, a
candidate publishing to it over real WebRTC, and reading the proctor feed."""

from __future__ import annotations

import asyncio
import fractions
from collections.abc import AsyncIterator
from typing import Any

import av
import cv2
import numpy as np
import pytest
from aiohttp import ClientWebSocketResponse
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import VideoStreamTrack
from skimage import data as images

from core.services import Services
from plugins.proctoring.consent import CONSENT_VERSION
from plugins.proctoring.tables import ProctoringConsent
from storage.tables.user import User
from tests.exams.support import Client, add_question, add_users, create_exam, fixed, headers, start

FACE = cv2.resize(cv2.cvtColor(images.astronaut(), cv2.COLOR_RGB2BGR), (480, 480))
EMPTY = np.full((480, 480, 3), 90, dtype=np.uint8)
POLICY = {
    "enabled": True,
    "analysis_fps": 4,
    "snapshot_interval_s": 1,
    "rules": {"no_face": {"min_duration_s": 1, "gap_s": 1}},
}


class Switchable(VideoStreamTrack):
    """A camera whose picture the test chooses."""

    def __init__(self) -> None:
        super().__init__()
        self.image = FACE

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame.from_ndarray(self.image, format="bgr24")
        frame.pts, frame.time_base = pts, fractions.Fraction(time_base)
        return frame


async def receive(ws: ClientWebSocketResponse, want: Any, timeout: float = 20.0) -> dict[str, Any]:
    """The first message for which ``want(message)`` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        assert left > 0, "timed out waiting for a live message"
        message = await ws.receive_json(timeout=left)
        if want(message):
            return message  # type: ignore[no-any-return]


@pytest.fixture
async def proctor(services: Services) -> User:
    return (await add_users(services, "proctor", 1))[0]


@pytest.fixture
async def proctored(client: Client, services: Services, examiner: User, candidate: User) -> str:
    question = await add_question(services, "essay")
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        proctoring_policy=POLICY,
    )
    async with services.db.session() as db:
        db.add(
            ProctoringConsent(
                exam_id=exam["id"], user_id=candidate.id, text_version=CONSENT_VERSION
            )
        )
        await db.commit()
    return str((await start(client, candidate, exam["id"]))["id"])


@pytest.fixture
async def publishing(
    client: Client, candidate: User, proctored: str
) -> AsyncIterator[tuple[Switchable, Any]]:
    track = Switchable()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(track)
    channel = pc.createDataChannel("telemetry")
    await pc.setLocalDescription(await pc.createOffer())
    response = await client.post(
        f"/api/v1/attempts/{proctored}/rtc/offer",
        json={"sdp": pc.localDescription.sdp, "type": "offer"},
        headers=headers(candidate),
    )
    assert response.status == 200, await response.text()
    await pc.setRemoteDescription(RTCSessionDescription(**await response.json()))
    try:
        yield track, channel
    finally:
        await pc.close()
