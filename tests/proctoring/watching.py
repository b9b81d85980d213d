"""A candidate and a proctor as aiortc clients, for the watch tests: the candidate publishes a
two-colour picture and a tone, the proctor offers receive-only audio and video and keeps what it
decodes."""

from __future__ import annotations

import asyncio
import fractions
from typing import Any

import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import (
    AudioStreamTrack,
    MediaStreamError,
    MediaStreamTrack,
    VideoStreamTrack,
)

LEFT = (40, 40, 200)  # BGR: the left half of the candidate's picture is red
RIGHT = (200, 90, 30)  # and the right half blue
TOLERANCE = 40  # VP8 at a low bitrate blurs colours a little, never this much


class TwoColours(VideoStreamTrack):
    """A 320x240 picture, red on the left and blue on the right, at 30 fps."""

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        array = np.empty((240, 320, 3), dtype=np.uint8)
        array[:, :160] = LEFT
        array[:, 160:] = RIGHT
        frame = av.VideoFrame.from_ndarray(array, format="bgr24")
        frame.pts, frame.time_base = pts, fractions.Fraction(time_base)
        return frame


class Tone(AudioStreamTrack):
    """A loud 440 Hz sine instead of aiortc's silence, so relayed audio is recognisable."""

    async def recv(self) -> Any:
        frame: Any = await super().recv()
        t = (np.arange(frame.samples) + frame.pts) / frame.sample_rate
        wave = (np.sin(2 * np.pi * 440 * t) * 12000).astype(np.int16)
        frame.planes[0].update(wave.tobytes())
        return frame


def matches(frame: av.VideoFrame) -> bool:
    """Whether a decoded frame shows the candidate's two colours, away from the seam."""
    array = frame.to_ndarray(format="bgr24")
    width = array.shape[1]
    left = array[:, : width // 2 - 16].reshape(-1, 3).mean(axis=0)
    right = array[:, width // 2 + 16 :].reshape(-1, 3).mean(axis=0)
    return bool(np.abs(left - LEFT).max() < TOLERANCE and np.abs(right - RIGHT).max() < TOLERANCE)


class Received:
    """What a client pulls from the tracks it receives."""

    def __init__(self) -> None:
        self.video: list[av.VideoFrame] = []  # the newest few only
        self.video_count = 0
        self.audio_count = 0
        self.audio_peak = 0
        self.tasks: list[asyncio.Task[None]] = []

    def consume(self, track: MediaStreamTrack) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(self._pull(track)))

    async def _pull(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame: Any = await track.recv()
                if track.kind == "video":
                    self.video = [*self.video[-4:], frame]
                    self.video_count += 1
                else:
                    self.audio_count += 1
                    peak = int(np.abs(frame.to_ndarray()).max())
                    self.audio_peak = max(self.audio_peak, peak)
        except MediaStreamError:
            pass

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class Proctor:
    """A proctor's client: receive-only audio and video, like watch.js."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")
        self.received = Received()
        self.pc.on("track", self.received.consume)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def close(self) -> None:
        await self.received.stop()
        await self.pc.close()


async def candidate_offer() -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(TwoColours())
    pc.addTrack(Tone())
    pc.createDataChannel("telemetry")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, str(pc.localDescription.sdp)
