"""Proctors watch a candidate live: the server relays the candidate's tracks to each watcher's
own connection while the analysis taps keep receiving, and every watcher is released.

Everything runs with aiortc clients over 127.0.0.1: a candidate publishes a two-colour picture
and a tone, a proctor offers receive-only audio and video and checks what it decodes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from core.channels import SESSION_REVOKED
from core.services import Services
from core.settings import Settings, load_settings
from media.config import MediaConfig
from media.peer import PeerRegistry
from media.relay import NotWatchable, WatcherLimit
from media.sdp import SdpRejected
from plugins.proctoring.plugin import registry_for
from storage.tables.user import User
from tests.exams.support import Client, add_users, headers
from tests.proctoring.conftest import PROCTORING, write_plugins_file
from tests.proctoring.test_loopback import wait_for
from tests.proctoring.watching import Proctor, candidate_offer, matches


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The proctoring fixtures' settings with room for two watchers per attempt."""
    section = PROCTORING + "max_watchers_per_attempt = 2\n"
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=write_plugins_file(tmp_path, section),
        log_format="text",
        rate_limit_per_minute=0,
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )


@pytest.fixture
async def proctors(services: Services) -> list[User]:
    return await add_users(services, "proctor", 3)


@pytest.fixture
async def publishing(
    client: Client, services: Services, candidate: User, attempt_id: str
) -> AsyncIterator[RTCPeerConnection]:
    """The candidate publishing to the live app, connected."""
    pc, sdp = await candidate_offer()
    response = await client.post(
        f"/api/v1/attempts/{attempt_id}/rtc/offer",
        json={"sdp": sdp, "type": "offer"},
        headers=headers(candidate),
    )
    assert response.status == 200, await response.text()
    answer = (await response.json())["sdp"]
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    registry = registry_for(services)
    assert registry is not None
    peer = registry.get(attempt_id)
    assert peer is not None
    await wait_for(lambda: peer.video and peer.video[0].received > 0)
    yield pc
    await pc.close()


async def post_watch(
    client: Client, user: User, attempt: str, body: Any, session: str | None = None
) -> tuple[int, Any]:
    extra = {"X-Test-Session": session} if session else {}
    response = await client.post(
        f"/api/v1/proctor/attempts/{attempt}/watch", json=body, headers=headers(user) | extra
    )
    return response.status, await response.json(content_type=None)


async def test_proctor_sees_and_hears_the_candidate_while_the_taps_go_on(
    client: Client,
    services: Services,
    proctors: list[User],
    attempt_id: str,
    publishing: RTCPeerConnection,
) -> None:
    registry = registry_for(services)
    assert registry is not None
    peer = registry.get(attempt_id)
    assert peer is not None
    proctor = Proctor()
    try:
        status, body = await post_watch(
            client, proctors[0], attempt_id, {"sdp": await proctor.offer(), "type": "offer"}
        )
        assert status == 200, body
        assert body["type"] == "answer"
        assert "127.0.0.1" in body["sdp"]
        await proctor.accept(body["sdp"])
        tapped, chunks = peer.video[0].received, peer.audio[0].chunks
        got = proctor.received
        await wait_for(lambda: got.video_count >= 15 and got.audio_count >= 25)
        assert any(matches(frame) for frame in got.video), "the relayed picture differs"
        assert got.audio_peak > 4000, "the relayed audio is not the candidate's tone"
        # The taps received all along, from the same relay.
        assert peer.video[0].received >= tapped + 10
        assert peer.audio[0].chunks > chunks
        assert peer.video[0].frame is not None
        assert matches(peer.video[0].frame)
        assert set(peer.watchers) == {str(proctors[0].id)}
        assert len(peer.relay.subscriptions) == 4  # two taps, two watcher tracks

        events = await services.events.query(attempt_id=attempt_id, kinds=["proctor.watch"])
        assert [e.data for e in events] == [{"user_id": str(proctors[0].id)}]
        assert events[0].source == "proctoring"

        response = await client.delete(
            f"/api/v1/proctor/attempts/{attempt_id}/watch", headers=headers(proctors[0])
        )
        assert response.status == 204
        assert peer.watchers == {}
        assert len(peer.relay.subscriptions) == 2
        again = await client.delete(
            f"/api/v1/proctor/attempts/{attempt_id}/watch", headers=headers(proctors[0])
        )
        assert again.status == 204
    finally:
        await proctor.close()
    assert registry.watchers_created == registry.watchers_released == 1


async def test_refusals(
    client: Client,
    services: Services,
    candidate: User,
    proctors: list[User],
    examiner: User,
    admin: User,
    attempt_id: str,
    publishing: RTCPeerConnection,
) -> None:
    clients = [Proctor() for _ in range(4)]
    try:
        offers = [await p.offer() for p in clients]
        body = {"sdp": offers[0], "type": "offer"}
        status, error = await post_watch(client, proctors[0], "0" * 32, body)
        assert (status, error["error"]["code"]) == (404, "not_found")
        status, error = await post_watch(client, proctors[0], f"check-{candidate.id}", body)
        assert (status, error["error"]["code"]) == (404, "not_found")
        status, error = await post_watch(client, candidate, attempt_id, body)
        assert status == 403, error
        for bad in ["hello", "v=0\r\n", "\x00\x01" * 50]:
            status, error = await post_watch(
                client, proctors[0], attempt_id, {"sdp": bad, "type": "offer"}
            )
            assert (status, error["error"]["code"]) == (422, "invalid_sdp"), bad
        sending, sending_sdp = await candidate_offer()  # an offer that sends media is refused
        await sending.close()
        status, error = await post_watch(
            client, proctors[0], attempt_id, {"sdp": sending_sdp, "type": "offer"}
        )
        assert (status, error["error"]["code"]) == (422, "invalid_sdp")
        huge = offers[0] + "a=x-padding:" + "p" * 70_000 + "\r\n"
        status, error = await post_watch(
            client, proctors[0], attempt_id, {"sdp": huge, "type": "offer"}
        )
        assert (status, error["error"]["code"]) == (413, "payload_too_large")

        for user, sdp in [(proctors[0], offers[0]), (examiner, offers[1])]:
            status, answer = await post_watch(
                client, user, attempt_id, {"sdp": sdp, "type": "offer"}
            )
            assert status == 200, answer
        status, error = await post_watch(
            client, admin, attempt_id, {"sdp": offers[2], "type": "offer"}
        )
        assert (status, error["error"]["code"]) == (409, "too_many_watchers")
        # The same person watching again replaces their own watch: no limit, no leak.
        status, answer = await post_watch(
            client, proctors[0], attempt_id, {"sdp": offers[3], "type": "offer"}
        )
        assert status == 200, answer
        registry = registry_for(services)
        assert registry is not None
        peer = registry.get(attempt_id)
        assert peer is not None
        assert set(peer.watchers) == {str(proctors[0].id), str(examiner.id)}
        assert registry.watchers_created == 3
        assert registry.watchers_released == 1
    finally:
        for p in clients:
            await p.close()


async def test_watchers_end_with_the_candidates_connection_and_the_proctors_session(
    client: Client,
    services: Services,
    candidate: User,
    proctors: list[User],
    attempt_id: str,
    publishing: RTCPeerConnection,
) -> None:
    registry = registry_for(services)
    assert registry is not None
    peer = registry.get(attempt_id)
    assert peer is not None
    watching = [Proctor(), Proctor()]
    try:
        for n, proctor in enumerate(watching):
            body = {"sdp": await proctor.offer(), "type": "offer"}
            status, answer = await post_watch(client, proctors[n], attempt_id, body, f"ps-{n}")
            assert status == 200, answer
            await proctor.accept(answer["sdp"])
        await wait_for(lambda: all(p.received.video_count > 0 for p in watching))

        # The first proctor signs out: only their watch ends.
        message = {"session_id": "ps-0", "user_id": str(proctors[0].id), "reason": "signed_out"}
        await services.bus.publish(SESSION_REVOKED, json.dumps(message).encode())
        await wait_for(lambda: str(proctors[0].id) not in peer.watchers)
        assert set(peer.watchers) == {str(proctors[1].id)}
        assert registry.get(attempt_id) is peer

        # The candidate goes away: the remaining watcher is closed with the peer.
        remaining = peer.watchers[str(proctors[1].id)]
        response = await client.delete(
            f"/api/v1/attempts/{attempt_id}/rtc", headers=headers(candidate)
        )
        assert response.status == 204
        assert remaining.closed
        assert peer.watchers == {}
        assert peer.relay.subscriptions == set()
        assert all(s.reader is None or s.reader.done() for s in peer.relay.sources)
        late = Proctor()
        watching.append(late)
        body = {"sdp": await late.offer(), "type": "offer"}
        status, error = await post_watch(client, proctors[1], attempt_id, body)
        assert (status, error["error"]["code"]) == (404, "not_found")
    finally:
        for proctor in watching:
            await proctor.close()
    assert registry.watchers_created == registry.watchers_released == 2


async def test_a_candidate_reconnecting_closes_the_watchers() -> None:
    registry = PeerRegistry(MediaConfig(bind_loopback=True))
    first, sdp = await candidate_offer()
    proctor = Proctor()
    try:
        await registry.answer("att1", sdp, user_id="7")
        old = registry.get("att1")
        assert old is not None
        await registry.watch("att1", await proctor.offer(), user_id="p1")
        watcher = old.watchers["p1"]
        second, again = await candidate_offer()
        await registry.answer("att1", again, user_id="7")  # a reload: the peer is replaced
        await second.close()
        assert watcher.closed
        assert old.closed
        assert old.watchers == {}
        assert old.relay.subscriptions == set()
        new = registry.get("att1")
        assert new is not None
        assert new.watchers == {}
    finally:
        await proctor.close()
        await first.close()
        await registry.close_all()
    assert registry.watchers_created == registry.watchers_released == 1


async def test_registry_refusals() -> None:
    registry = PeerRegistry(MediaConfig(bind_loopback=True, max_watchers_per_attempt=1))
    candidate, sdp = await candidate_offer()
    proctors = [Proctor(), Proctor()]
    try:
        with pytest.raises(NotWatchable):
            await registry.watch("att1", await proctors[0].offer(), user_id="p1")
        await registry.answer("att1", sdp, user_id="7")
        with pytest.raises(SdpRejected):
            await registry.watch("att1", sdp, user_id="p1")  # it sends media
        await registry.watch("att1", await proctors[0].offer(), user_id="p1")
        with pytest.raises(WatcherLimit):
            await registry.watch("att1", await proctors[1].offer(), user_id="p2")
        assert await registry.unwatch("att1", "p1")
        assert not await registry.unwatch("att1", "p1")
        assert not await registry.unwatch("nothing", "p1")
    finally:
        for proctor in proctors:
            await proctor.close()
        await candidate.close()
        await registry.close_all()
    assert registry.created == registry.released == 1


async def test_many_watch_cycles_leave_nothing_behind() -> None:
    """200 watch/unwatch cycles: no watcher, relay subscription or task outlives its cycle.

    Most cycles reuse one offer and never connect (the cheap path a reload storm takes); every
    twentieth connects for real and receives frames before it is closed.
    """
    registry = PeerRegistry(MediaConfig(bind_loopback=True))
    candidate, sdp = await candidate_offer()
    idle = Proctor()
    try:
        answer = await registry.answer("att1", sdp, user_id="7")
        await candidate.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        peer = registry.get("att1")
        assert peer is not None
        await wait_for(lambda: peer.video and peer.video[0].received > 0)
        await wait_for(lambda: peer.audio and peer.audio[0].chunks > 0)
        taps = set(peer.relay.subscriptions)
        assert len(taps) == 2
        baseline = _tasks()
        offer = await idle.offer()
        for cycle in range(200):
            if cycle % 20 == 0:
                proctor = Proctor()
                await proctor.accept(
                    await registry.watch("att1", await proctor.offer(), user_id="p")
                )
                await wait_for(lambda p=proctor: p.received.video_count > 0)
                await proctor.close()
            else:
                await registry.watch("att1", offer, user_id="p")
            assert await registry.unwatch("att1", "p")
            assert peer.watchers == {}
            assert peer.relay.subscriptions == taps
        await wait_for(lambda: _tasks() <= baseline, timeout=30)
        assert registry.watchers_created == registry.watchers_released == 200
        assert peer.video[0].task is not None
        assert not peer.video[0].task.done()
    finally:
        await idle.close()
        await candidate.close()
        await registry.close_all()
    assert registry.peers == {}
    assert registry.created == registry.released == 1


def _tasks() -> int:
    return len([t for t in asyncio.all_tasks() if not t.done()])


async def test_a_peer_that_never_connected_leaves_no_relay_reader() -> None:
    """aiortc ends a remote track only once its connection was up; the relay must not wait."""
    registry = PeerRegistry(MediaConfig(bind_loopback=True))
    candidate, sdp = await candidate_offer()
    await candidate.close()  # it will never answer a connectivity check
    before = _tasks()
    try:
        await registry.answer("att1", sdp, user_id="7")
        peer = registry.get("att1")
        assert peer is not None
        await wait_for(lambda: all(s.reader is not None for s in peer.relay.sources))
        readers = [s.reader for s in peer.relay.sources]
        assert len(readers) == 2
        await registry.close("att1")
        assert all(r is not None and r.done() and not r.cancelled() for r in readers)
        assert peer.relay.subscriptions == set()
        await wait_for(lambda: _tasks() <= before)
    finally:
        await registry.close_all()


async def test_a_watcher_whose_connection_closes_is_released() -> None:
    registry = PeerRegistry(MediaConfig(bind_loopback=True))
    candidate, sdp = await candidate_offer()
    proctor = Proctor()
    try:
        answer = await registry.answer("att1", sdp, user_id="7")
        await candidate.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        peer = registry.get("att1")
        assert peer is not None
        await proctor.accept(await registry.watch("att1", await proctor.offer(), user_id="p1"))
        await wait_for(lambda: proctor.received.video_count > 0)
        await proctor.close()  # no unwatch: the server notices its end closing
        await wait_for(lambda: peer.watchers == {})
        assert len(peer.relay.subscriptions) == 2
        assert registry.watchers_created == registry.watchers_released == 1
    finally:
        await proctor.close()
        await candidate.close()
        await registry.close_all()
