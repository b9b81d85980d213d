"""The signalling API refuses everything it cannot answer with a clear 4xx, never a 500, and
only the attempt's own candidate may stream while the attempt is in progress."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from core.channels import SESSION_REVOKED
from core.services import Services
from plugins.proctoring.plugin import registry_for
from storage.tables.user import User
from tests.exams.support import Client, headers
from tests.proctoring.conftest import finish


async def make_offer(video: int = 1, audio: int = 1) -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    for _ in range(video):
        pc.addTrack(VideoStreamTrack())
    for _ in range(audio):
        pc.addTrack(AudioStreamTrack())
    pc.createDataChannel("telemetry")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def post(
    client: Client, user: User, attempt: str, body: Any, session: str | None = None
) -> tuple[int, Any]:
    extra = {"X-Test-Session": session} if session else {}
    response = await client.post(
        f"/api/v1/attempts/{attempt}/rtc/offer", json=body, headers=headers(user) | extra
    )
    return response.status, await response.json(content_type=None)


@pytest.fixture
async def offer() -> Any:
    pc, sdp = await make_offer()
    yield sdp
    await pc.close()


async def test_offer_is_answered_and_delete_closes(
    client: Client, services: Services, candidate: User, attempt_id: str, offer: str
) -> None:
    status, body = await post(client, candidate, attempt_id, {"sdp": offer, "type": "offer"})
    assert status == 200, body
    assert body["type"] == "answer"
    assert "a=fingerprint" in body["sdp"]
    assert "127.0.0.1" in body["sdp"]
    registry = registry_for(services)
    assert registry is not None
    assert list(registry.peers) == [attempt_id]
    again, _ = await post(client, candidate, attempt_id, {"sdp": offer, "type": "offer"})
    assert again == 200
    assert len(registry.peers) == 1
    assert registry.released == 1
    response = await client.delete(f"/api/v1/attempts/{attempt_id}/rtc", headers=headers(candidate))
    assert response.status == 204
    assert registry.peers == {}


BROKEN = [
    "hello",
    "v=0\r\n",
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",  # no media at all
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n",
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video x\r\n",
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=ice-ufrag:abcd\r\na=ice-pwd:" + "p" * 22 + "\r\n"
    "a=fingerprint:sha-256 zz\r\na=setup:actpass\r\na=mid:0\r\n",
    "\x00\x01\x02" * 100,
]


@pytest.mark.parametrize("sdp", BROKEN, ids=range(len(BROKEN)))
async def test_malformed_sdp_is_422(
    client: Client, services: Services, candidate: User, attempt_id: str, sdp: str
) -> None:
    status, body = await post(client, candidate, attempt_id, {"sdp": sdp, "type": "offer"})
    assert status == 422, body
    assert body["error"]["code"] == "invalid_sdp"
    registry = registry_for(services)
    assert registry is not None
    assert registry.peers == {}


async def test_offer_mangled_from_a_real_one_is_422(
    client: Client, candidate: User, attempt_id: str, offer: str
) -> None:
    for mangled in (
        offer.replace("a=fingerprint:", "a=fingerprint:bogus "),
        offer.replace("a=ice-ufrag:", "a=ice-nothing:"),
        "".join(line for line in offer.splitlines(True) if "fingerprint" not in line),
    ):
        status, body = await post(client, candidate, attempt_id, {"sdp": mangled, "type": "offer"})
        assert status == 422, (status, body)


async def test_size_type_and_track_limits(
    client: Client, candidate: User, attempt_id: str, offer: str
) -> None:
    status, body = await post(
        client, candidate, attempt_id, {"sdp": offer + "a=x\r\n" * 20000, "type": "offer"}
    )
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    status, _ = await post(client, candidate, attempt_id, {"sdp": offer, "type": "answer"})
    assert status == 422
    pc, many = await make_offer(video=3, audio=1)
    try:
        status, body = await post(client, candidate, attempt_id, {"sdp": many, "type": "offer"})
    finally:
        await pc.close()
    assert status == 422
    assert body["error"]["code"] == "too_many_tracks"


async def test_only_the_own_candidate_of_an_attempt_in_progress(
    client: Client,
    services: Services,
    candidates: list[User],
    examiner: User,
    attempt_id: str,
    offer: str,
) -> None:
    body = {"sdp": offer, "type": "offer"}
    assert (await post(client, candidates[1], attempt_id, body))[0] == 404
    assert (await post(client, candidates[0], "0" * 32, body))[0] == 404
    assert (await post(client, examiner, attempt_id, body))[0] == 403
    await finish(services, attempt_id)
    assert (await post(client, candidates[0], attempt_id, body))[0] == 404


async def test_stats_for_staff_and_revocation_closes(
    client: Client,
    services: Services,
    candidate: User,
    examiner: User,
    attempt_id: str,
    offer: str,
) -> None:
    body = {"sdp": offer, "type": "offer"}
    assert (await post(client, candidate, attempt_id, body, session="sess-1"))[0] == 200
    url = f"/api/v1/attempts/{attempt_id}/rtc/stats"
    assert (await client.get(url, headers=headers(candidate))).status == 403
    stats = await (await client.get(url, headers=headers(examiner))).json()
    assert stats["attempt_id"] == attempt_id
    assert stats["state"] != "none"
    registry = registry_for(services)
    assert registry is not None
    message = {"session_id": "sess-1", "user_id": str(candidate.id), "reason": "signed_out"}
    await services.bus.publish(SESSION_REVOKED, json.dumps(message).encode())
    for _ in range(100):
        if not registry.peers:
            break
        await asyncio.sleep(0.02)
    assert registry.peers == {}
    stats = await (await client.get(url, headers=headers(examiner))).json()
    assert stats["state"] == "none"
