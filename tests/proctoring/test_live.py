"""The whole live path in one app: a candidate's camera over real WebRTC, the face detector,
the rules, the proctor WebSocket, snapshots, the stored score, actions and reviews."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from core.channels import ATTEMPT_CONTROL
from core.events import Event
from core.hookspecs import hookimpl
from core.rules import Violation
from core.services import Services
from plugins.exams.tables import Attempt
from plugins.proctoring.plugin import analysis_for
from plugins.proctoring.tables import ProctoringScore
from storage.tables.user import User
from tests.exams.support import Client, headers
from tests.proctoring.live_kit import (
    EMPTY,
    FACE,
    Switchable,
    proctor,
    proctored,
    publishing,
    receive,
)

__all__ = ["proctor", "proctored", "publishing"]  # fixtures used by name


async def test_an_empty_scene_becomes_a_violation_on_the_wall_with_evidence_and_score(
    client: Client,
    services: Services,
    proctor: User,
    candidate: User,
    proctored: str,
    publishing: tuple[Switchable, Any],
) -> None:
    track, channel = publishing
    ws = await client.ws_connect("/api/v1/proctor/live", headers=headers(proctor))
    hello = await ws.receive_json(timeout=10)
    assert hello["type"] == "hello"
    assert proctored in [t["attempt_id"] for t in hello["tiles"]]

    # The face is seen: the tile goes live and connected, nothing is raised.
    tile = await receive(
        ws, lambda m: m["type"] == "tile" and m["tile"]["connection"] == "connected"
    )
    assert tile["tile"]["candidate"] == candidate.display_name
    assert tile["tile"]["badges"] == []

    # The candidate leaves: a no-face violation reaches the wall with its reason in words.
    track.image = EMPTY
    alert = await receive(ws, lambda m: m["type"] == "alert")
    violation = alert["violation"]
    assert alert["attempt_id"] == proctored
    assert violation["kind"] == "no_face"
    assert violation["severity"] == "high"
    assert violation["evidence"]["count"] == 0
    badge_tile = await receive(ws, lambda m: m["type"] == "tile" and m["tile"]["badges"])
    assert badge_tile["tile"]["badges"][0]["text"].startswith("no face")
    assert badge_tile["tile"]["score"] > 0

    # The snapshot taken at the start is in the blob store, a thumbnail in the cache.
    key = violation["evidence"]["snapshot"]
    for _ in range(50):
        try:
            jpeg = await services.blobs.get(key)
            break
        except Exception:
            await asyncio.sleep(0.1)
    assert jpeg[:2] == b"\xff\xd8"
    thumb = await client.get(
        f"/api/v1/proctor/attempts/{proctored}/thumbnail", headers=headers(proctor)
    )
    assert thumb.status == 200
    assert thumb.content_type == "image/jpeg"

    # Back in front of the camera: the violation ends; a paste is an instant violation.
    track.image = FACE
    await receive(ws, lambda m: m["type"] == "tile" and not m["tile"]["badges"], timeout=20)
    channel.send(json.dumps({"type": "paste"}))
    pasted = await receive(ws, lambda m: m["type"] == "alert")
    assert pasted["violation"]["kind"] == "clipboard"
    # The tile follows the stored score (the alert goes out first, for speed).
    await receive(
        ws,
        lambda m: m["type"] == "tile" and [b["kind"] for b in m["tile"]["badges"]] == ["clipboard"],
    )

    # The score is stored in SQL with every contribution explained.
    async with services.db.session() as db:
        row = await db.get(ProctoringScore, proctored)
    assert row is not None
    kinds = {c["kind"] for c in row.breakdown["contributions"]}
    assert kinds == {"no_face", "clipboard"}
    assert row.score == pytest.approx(
        sum(c["points"] for c in row.breakdown["contributions"]), abs=0.2
    )
    await ws.close()

    # The review data: violations, snapshots with links, a score series.
    timeline = await client.get(
        f"/api/v1/proctor/attempts/{proctored}/timeline", headers=headers(proctor)
    )
    assert timeline.status == 200
    body = await timeline.json()
    assert [v["kind"] for v in body["violations"]] == ["no_face", "clipboard"]
    assert body["violations"][0]["ended_at"] is not None
    at_start = [s for s in body["snapshots"] if s["reason"] == "violation"]
    assert at_start
    assert at_start[0]["violation_id"] == violation["id"]
    picture = await client.get(at_start[0]["url"], headers=headers(proctor))
    assert picture.status == 200
    assert (await picture.read())[:2] == b"\xff\xd8"
    stranger = await client.get(at_start[0]["url"], headers=headers(candidate))
    assert stranger.status == 403
    missing = await client.get(
        f"/api/v1/proctor/attempts/{proctored}/snapshots/1.jpg", headers=headers(proctor)
    )
    assert missing.status == 404
    assert body["score_series"][-1]["score"] > 0
    assert [e["kind"] for e in body["telemetry"]] == ["telemetry.paste"]

    # Dismissing the no-face violation takes its points out and says so.
    no_face = body["violations"][0]["id"]
    review = await client.put(
        f"/api/v1/proctor/attempts/{proctored}/violations/{no_face}/review",
        json={"decision": "dismissed", "note": "adjusting the lamp"},
        headers=headers(proctor),
    )
    assert review.status == 200, await review.text()
    overview = await (
        await client.get(f"/api/v1/proctor/attempts/{proctored}", headers=headers(proctor))
    ).json()
    assert overview["score"]["excluded"] == [no_face]
    assert overview["score"]["score"] == pytest.approx(3.0)
    assert overview["violations"][0]["review"]["decision"] == "dismissed"


async def test_actions_reach_the_candidate_channel_and_are_recorded(
    client: Client, services: Services, proctor: User, candidate: User, proctored: str
) -> None:
    async with services.bus.subscribe(ATTEMPT_CONTROL) as messages:
        response = await client.post(
            f"/api/v1/proctor/attempts/{proctored}/actions",
            json={"action": "warn", "text": "Please keep your face in view."},
            headers=headers(proctor),
        )
        assert response.status == 201, await response.text()
        raw = await asyncio.wait_for(messages.__anext__(), timeout=5)
    sent = json.loads(raw)
    assert sent["attempt_id"] == proctored
    assert sent["action"] == "warn"
    assert sent["text"] == "Please keep your face in view."

    empty = await client.post(
        f"/api/v1/proctor/attempts/{proctored}/actions",
        json={"action": "message", "text": "  "},
        headers=headers(proctor),
    )
    assert empty.status == 422
    as_candidate = await client.post(
        f"/api/v1/proctor/attempts/{proctored}/actions",
        json={"action": "message", "text": "hi"},
        headers=headers(candidate),
    )
    assert as_candidate.status == 403
    overview = await (
        await client.get(f"/api/v1/proctor/attempts/{proctored}", headers=headers(proctor))
    ).json()
    assert [a["action"] for a in overview["actions"]] == ["warn"]
    events = await services.events.query(attempt_id=proctored, kinds=["proctor.warn"])
    assert len(events) == 1


async def test_recompute_with_other_weights_is_saved_only_when_asked(
    client: Client, services: Services, proctor: User, proctored: str
) -> None:
    violation = Violation(
        attempt_id=proctored,
        kind="no_face",
        detector="face",
        label="No face",
        severity="high",
        started_at=1000.0,
        ended_at=1060.0,
    )
    await services.events.append(
        [Event(kind="violation.ended", attempt_id=proctored, data=violation.model_dump())]
    )
    url = f"/api/v1/proctor/attempts/{proctored}/score/recompute"
    heavier = {"weights": {"no_face": {"weight": 50, "per_minute": 0, "max_points": 60}}}
    response = await client.post(url, json=heavier, headers=headers(proctor))
    assert response.status == 200, await response.text()
    assert (await response.json())["score"] == 50
    async with services.db.session() as db:
        assert await db.get(ProctoringScore, proctored) is None
    saved = await client.post(url, json={**heavier, "save": True}, headers=headers(proctor))
    assert (await saved.json())["score"] == 50
    async with services.db.session() as db:
        row = await db.get(ProctoringScore, proctored)
        assert row is not None
        assert row.score == 50
    unknown = await client.post(
        url, json={"weights": {"nope": {"weight": 1, "max_points": 1}}}, headers=headers(proctor)
    )
    assert unknown.status == 422


async def test_the_wall_forgets_an_attempt_that_ended(
    client: Client,
    services: Services,
    proctor: User,
    proctored: str,
    publishing: tuple[Switchable, Any],
) -> None:
    ws = await client.ws_connect("/api/v1/proctor/live", headers=headers(proctor))
    await receive(ws, lambda m: m["type"] == "tile" and m["tile"]["attempt_id"] == proctored)
    async with services.db.session() as db:
        row = await db.get(Attempt, proctored)
        assert row is not None
        row.status = "submitted"
        await db.commit()
    removed = await receive(ws, lambda m: m["type"] == "removed", timeout=15)
    assert removed["attempt_id"] == proctored
    tiles = await client.get("/api/v1/proctor/tiles", headers=headers(proctor))
    assert proctored not in [t["attempt_id"] for t in await tiles.json()]
    await ws.close()


class ContextPlugin:
    """Knows one thing about each attempt, as an identity or gaze plugin would."""

    @hookimpl
    async def invigilator_attempt_context(
        self, services: Services, attempt_id: str, exam_id: int, user_id: int
    ) -> dict[str, Any]:
        return {"ctx.user_id": user_id, "ctx.exam_id": exam_id}


async def test_plugins_context_reaches_the_frames_of_that_attempt(
    client: Client, services: Services, candidate: User, proctored: str
) -> None:
    assert services.plugins is not None
    services.plugins.register(ContextPlugin(), name="context-plugin")
    analysis = analysis_for(services)
    assert analysis is not None
    track = Switchable()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(track)
    await pc.setLocalDescription(await pc.createOffer())
    response = await client.post(
        f"/api/v1/attempts/{proctored}/rtc/offer",
        json={"sdp": pc.localDescription.sdp, "type": "offer"},
        headers=headers(candidate),
    )
    await pc.setRemoteDescription(RTCSessionDescription(**await response.json()))
    try:
        for _ in range(200):
            if analysis.live.context_of(proctored):
                break
            await asyncio.sleep(0.05)
        assert analysis.live.context_of(proctored)["ctx.user_id"] == candidate.id
        assert analysis.live.context_of("someone-else") == {}
    finally:
        await pc.close()
