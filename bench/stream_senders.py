"""Synthetic candidates for ``bench/streams.py``: pre-encoded media and the sender process.

A benchmark of the server must not be limited by its load generator, and encoding 640x480 video
for dozens of cameras would cost more CPU than the server under test. So the clips are encoded
ONCE with ffmpeg (a real portrait for a while, then an empty scene; a quiet Opus tone), read into
memory as packets, and every candidate sends those packets as they are: aiortc's RTP sender
packetizes an ``av.Packet`` without decoding or re-encoding it (the same path as its
``MediaPlayer(decode=False)``). What is left per candidate is RTP packetization, SRTP and ICE.

The clips start with a keyframe and have one every ``GOP`` frames, so a candidate can jump from
the portrait to the empty scene at any frame, and a receiver recovers from a lost packet within a
GOP (a passthrough sender cannot answer keyframe requests).

Run as a process by ``bench/streams.py`` (one or more, each carrying several candidates), it
speaks JSON lines. Its first stdin line is the plan (server, codec, clips, candidates with their
attempt ids and access tokens); later lines are ``{"toggles": {attempt_id: [epoch, ...]}}`` (when
each candidate turns from the portrait to the empty scene and back) and ``{"stop": true}``. On
stdout it writes ``connected`` or ``failed`` per candidate, ``switched`` with the scene and the
wall-clock time its first frame was handed to the RTP sender, and ``stopped`` with the frames
each candidate sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import av
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

WIDTH, HEIGHT, FPS = 640, 480, 15
SEGMENT_FRAMES = 60  # four seconds a loop
GOP = 30  # a keyframe every two seconds
VIDEO_CLOCK = fractions.Fraction(1, 90_000)
AUDIO_CLOCK = fractions.Fraction(1, 48_000)
OPUS_SAMPLES = 960  # 20 ms at 48 kHz
CODECS = {"vp8": "video/VP8", "h264": "video/H264"}


class MediaError(RuntimeError):
    """The clips could not be made (ffmpeg missing or failing)."""


# ---------------------------------------------------------------------------------------------
# Clips, made once per benchmark run


def _scenes() -> tuple[Any, Any]:
    """(portrait, empty scene) as RGB arrays larger than the frame, so the crop can move."""
    import cv2  # noqa: PLC0415 (only the preparing process needs these)
    import numpy as np  # noqa: PLC0415
    from skimage import data  # noqa: PLC0415

    # The portrait at 600 px on a plain wall: the whole face stays in every crop (mediapipe's
    # full-range model misses a face that fills the frame and is cut at the top).
    photo: Any = data.astronaut()  # type: ignore[no-untyped-call]
    coffee: Any = data.coffee()  # type: ignore[no-untyped-call]
    portrait = np.full((560, 720, 3), (90, 100, 110), dtype=np.uint8)
    portrait[:, 60:660] = cv2.resize(photo, (600, 600), interpolation=cv2.INTER_AREA)[:560]
    empty = cv2.resize(coffee, (720, 540), interpolation=cv2.INTER_AREA)
    return portrait, empty


def _frames(scene: Any, count: int) -> bytes:
    """``count`` 640x480 rgb24 frames: the crop drifts slowly, as a hand-held camera would."""
    import math  # noqa: PLC0415

    room_x, room_y = scene.shape[1] - WIDTH, scene.shape[0] - HEIGHT
    out = bytearray()
    for n in range(count):
        phase = 2 * math.pi * n / count
        x = int(room_x / 2 + room_x / 2 * 0.8 * math.sin(phase))
        y = int(room_y / 2 + room_y / 2 * 0.8 * math.cos(phase))
        out += scene[y : y + HEIGHT, x : x + WIDTH].tobytes()
    return bytes(out)


def _video_args(codec: str) -> list[str]:
    common = ["-g", str(GOP), "-keyint_min", str(GOP), "-b:v", "600k", "-maxrate", "800k"]
    common += ["-bufsize", "800k", "-pix_fmt", "yuv420p"]
    if codec == "h264":
        # What aiortc negotiates: constrained baseline, no B-frames, parameter sets before every
        # keyframe (so a receiver can start at any keyframe), Annex B byte stream.
        x264 = f"repeat-headers=1:scenecut=0:keyint={GOP}:min-keyint={GOP}"
        return [
            "-c:v", "libx264", "-profile:v", "baseline", "-level", "3.1", "-bf", "0",
            "-tune", "zerolatency", "-x264-params", x264, *common, "-f", "h264",
        ]  # fmt: skip
    return [
        "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-auto-alt-ref", "0",
        "-lag-in-frames", "0", *common, "-f", "ivf",
    ]  # fmt: skip


def _ffmpeg(args: list[str], stdin: bytes | None = None) -> None:
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args]
    result = subprocess.run(command, input=stdin, capture_output=True, timeout=120, check=False)
    if result.returncode != 0:
        raise MediaError(f"ffmpeg failed: {result.stderr.decode(errors='replace')[-400:]}")


def prepare_media(folder: Path, codec: str) -> dict[str, str]:
    """Encode the portrait clip, the empty-scene clip and the tone into ``folder``."""
    if shutil.which("ffmpeg") is None:
        raise MediaError(
            "ffmpeg is not installed; the benchmark encodes its clips with it "
            "(Debian: apt-get install ffmpeg)"
        )
    portrait, empty = _scenes()
    suffix = "h264" if codec == "h264" else "ivf"
    paths = {"face": folder / f"face.{suffix}", "empty": folder / f"empty.{suffix}"}
    raw = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS)]
    for name, scene in (("face", portrait), ("empty", empty)):
        frames = _frames(scene, SEGMENT_FRAMES)
        _ffmpeg([*raw, "-i", "-", *_video_args(codec), str(paths[name])], stdin=frames)
    paths["audio"] = folder / "tone.ogg"
    tone = "sine=frequency=440:sample_rate=48000:duration=1"
    audio = [
        "-f", "lavfi", "-i", tone, "-af", "volume=0.05", "-ac", "1", "-c:a", "libopus",
        "-b:a", "24k", "-frame_duration", "20", "-application", "voip", str(paths["audio"]),
    ]  # fmt: skip
    _ffmpeg(audio)
    return {name: str(path) for name, path in paths.items()}


def read_packets(path: str) -> list[tuple[bytes, bool]]:
    """Every packet of the file's first stream, in order: (payload, is keyframe)."""
    with av.open(path) as container:
        stream = container.streams[0]
        packets = [(bytes(p), bool(p.is_keyframe)) for p in container.demux(stream) if p.size]
    if not packets:
        raise MediaError(f"{path} holds no packets")
    return packets


# ---------------------------------------------------------------------------------------------
# Tracks that send the packets as they are


class _Paced(MediaStreamTrack):
    """Hands out one packet per ``1 / rate`` seconds of wall time, never bursting to catch up
    more than one packet (a stalled loop must not flood the receiver)."""

    def __init__(self, rate: float, ticks: int, clock: fractions.Fraction) -> None:
        super().__init__()
        self.period = 1.0 / rate
        self.ticks = ticks
        self.clock = clock
        self.sent = 0
        self._next: float | None = None

    async def _pace(self) -> None:
        now = time.monotonic()
        if self._next is None:
            self._next = now
        elif self._next > now:
            await asyncio.sleep(self._next - now)
        else:
            self._next = max(self._next, now - self.period)
        self._next += self.period

    def _packet(self, payload: bytes) -> Any:
        packet = av.Packet(payload)
        packet.pts = self.sent * self.ticks
        packet.time_base = self.clock
        self.sent += 1
        return packet


class ClipTrack(_Paced):
    """The portrait clip in a loop; at each time in ``toggles`` (epoch seconds, ascending) it
    turns to the other clip, starting that clip at its first frame (a keyframe)."""

    kind = "video"

    def __init__(self, face: list[bytes], empty: list[bytes]) -> None:
        super().__init__(FPS, int(1 / FPS / VIDEO_CLOCK), VIDEO_CLOCK)
        self.clips = {"face": face, "empty": empty}
        self.scene = "face"
        self.toggles: list[float] = []
        self.on_switch: Any = None
        self._position = 0

    async def recv(self) -> Any:  # an av.Packet: aiortc's sender packs it as it is
        await self._pace()
        now = time.time()
        flips = 0
        while self.toggles and self.toggles[0] <= now:
            self.toggles.pop(0)
            flips += 1
        if flips % 2:
            self.scene = "empty" if self.scene == "face" else "face"
            self._position = 0
            if self.on_switch is not None:
                self.on_switch(now, self.scene)  # this call hands out its first frame
        clip = self.clips[self.scene]
        payload = clip[self._position % len(clip)]
        self._position += 1
        return self._packet(payload)


class ToneTrack(_Paced):
    """The pre-encoded Opus tone in a loop (20 ms packets)."""

    kind = "audio"

    def __init__(self, packets: list[bytes]) -> None:
        super().__init__(1000 / 20, OPUS_SAMPLES, AUDIO_CLOCK)
        self.packets = packets

    async def recv(self) -> Any:  # an av.Packet: aiortc's sender packs it as it is
        await self._pace()
        return self._packet(self.packets[self.sent % len(self.packets)])


# ---------------------------------------------------------------------------------------------
# The sender process


@dataclass
class Candidate:
    attempt_id: str
    token: str
    video: ClipTrack
    audio: ToneTrack
    pc: RTCPeerConnection | None = None


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _prefer(pc: RTCPeerConnection, track: MediaStreamTrack, mime: str) -> None:
    """Send ``track`` with only this codec on offer (and its retransmission format), so the
    server decodes what the benchmark asked for."""
    transceiver = pc.addTransceiver(track, direction="sendonly")
    codecs = RTCRtpSender.getCapabilities(track.kind).codecs
    chosen = [c for c in codecs if c.mimeType == mime]
    chosen += [c for c in codecs if c.mimeType.endswith("/rtx")]
    transceiver.setCodecPreferences(chosen)


async def connect(
    http: aiohttp.ClientSession, base: str, codec: str, one: Candidate, *, audio: bool = True
) -> None:
    """Publish like the browser does: gather fully, POST the offer, apply the answer."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    one.pc = pc
    _prefer(pc, one.video, CODECS[codec])
    if audio:
        _prefer(pc, one.audio, "audio/opus")
    pc.createDataChannel("telemetry")
    await pc.setLocalDescription(await pc.createOffer())
    url = f"{base}/api/v1/attempts/{one.attempt_id}/rtc/offer"
    body = {"sdp": pc.localDescription.sdp, "type": "offer"}
    headers = {"Authorization": f"Bearer {one.token}"}
    async with http.post(url, json=body, headers=headers) as response:
        answer = await response.json(content_type=None)
        if response.status != 200:
            raise RuntimeError(f"offer refused: HTTP {response.status} {answer}")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while pc.connectionState != "connected":
        if pc.connectionState in ("failed", "closed") or loop.time() > deadline:
            raise RuntimeError(f"connection {pc.connectionState}")
        await asyncio.sleep(0.05)


async def stdin_lines() -> asyncio.StreamReader:
    """stdin as an asyncio stream: no thread blocked in ``readline`` at exit."""
    reader = asyncio.StreamReader()
    protocol = asyncio.StreamReaderProtocol(reader)
    await asyncio.get_running_loop().connect_read_pipe(lambda: protocol, sys.stdin)
    return reader


async def _commands(lines: asyncio.StreamReader, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        line = await lines.readline()
        if not line:  # the parent went away
            await queue.put({"stop": True})
            return
        with contextlib.suppress(ValueError):
            await queue.put(json.loads(line))


async def run() -> None:
    lines = await stdin_lines()
    plan = json.loads(await lines.readline())
    media = plan["media"]
    face = [p for p, _ in read_packets(media["face"])]
    empty = [p for p, _ in read_packets(media["empty"])]
    tone = [p for p, _ in read_packets(media["audio"])]
    people = [
        Candidate(c["attempt_id"], c["token"], ClipTrack(face, empty), ToneTrack(tone))
        for c in plan["candidates"]
    ]
    for one in people:
        one.video.on_switch = lambda at, scene, a=one.attempt_id: emit(
            {"event": "switched", "attempt_id": a, "at": at, "scene": scene}
        )
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    reader = asyncio.get_running_loop().create_task(_commands(lines, queue))
    limit = asyncio.Semaphore(4)  # gathering is slow; a few at a time keeps offers in order

    async def start(http: aiohttp.ClientSession, one: Candidate) -> None:
        async with limit:
            try:
                audio = bool(plan.get("audio", True))
                await connect(http, plan["base"], plan["codec"], one, audio=audio)
            except Exception as exc:
                emit({"event": "failed", "attempt_id": one.attempt_id, "error": str(exc)})
            else:
                emit({"event": "connected", "attempt_id": one.attempt_id})

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            await asyncio.gather(*(start(http, one) for one in people))
        by_id = {one.attempt_id: one for one in people}
        while True:
            command = await queue.get()
            if command.get("stop"):
                break
            for attempt_id, times in command.get("toggles", {}).items():
                if attempt_id in by_id:
                    by_id[attempt_id].video.toggles = sorted(float(t) for t in times)
    finally:
        reader.cancel()
        for one in people:
            if one.pc is not None:
                with contextlib.suppress(Exception):
                    await one.pc.close()
    emit({"event": "stopped", "frames": {one.attempt_id: one.video.sent for one in people}})


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
