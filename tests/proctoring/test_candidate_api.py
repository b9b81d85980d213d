"""The candidate's side before a proctored attempt: consent (versioned, idempotent, required to
start), and the system check, judged from what the server really receives over WebRTC."""

from __future__ import annotations

import asyncio
import fractions
import math
from typing import Any

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from sqlalchemy import select

from core.services import Services
from plugins.proctoring import candidate_api, consent
from plugins.proctoring.candidate_api import (
    LEVEL_FLOOR_DBFS,
    audio_level,
    brightness,
    check_key,
    check_status,
    invigilator_attempt_starting,
)
from plugins.proctoring.plugin import registry_for
from plugins.proctoring.tables import ProctoringConsent
from storage.tables.user import User
from tests.exams.support import Client, add_question, create_exam, fixed, headers, start
from tests.proctoring.test_analysis import Photo
from tests.proctoring.test_signaling import make_offer

POLICY = {"enabled": True, "snapshot_interval_s": 7}


@pytest.fixture
async def exam_id(client: Client, services: Services, examiner: User, candidate: User) -> int:
    """A published, proctored exam with ``candidate`` assigned."""
    question = await add_question(services, "essay")
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        proctoring_policy=POLICY,
    )
    return int(exam["id"])


async def call(
    client: Client, method: str, url: str, user: User, body: Any = None
) -> tuple[int, Any]:
    response = await client.request(method, url, json=body, headers=headers(user))
    return response.status, await response.json(content_type=None)


async def consent_rows(services: Services) -> list[ProctoringConsent]:
    async with services.db.session() as db:
        return list((await db.execute(select(ProctoringConsent))).scalars())


async def test_consent_then_start(
    client: Client, services: Services, candidate: User, exam_id: int
) -> None:
    base = f"/api/v1/exams/{exam_id}/proctoring"
    status, summary = await call(client, "GET", base, candidate)
    assert status == 200, summary
    assert summary["enabled"] is True
    assert summary["consented"] is False
    assert summary["text_version"] == consent.CONSENT_VERSION
    assert "every 7 seconds" in summary["consent_text"]
    for words in ("camera", "microphone", "full screen", "Who sees it", "How long", "withdraw"):
        assert words in summary["consent_text"]
    assert summary["snapshot_interval_s"] == 7
    assert {"kind": "no_face", "label": "No face"} in summary["rules"]

    refused = await start(client, candidate, exam_id, expect=409)
    assert refused["error"]["code"] == "consent_required"

    status, body = await call(
        client, "POST", f"{base}/consent", candidate, {"text_version": "1999"}
    )
    assert status == 409
    assert body["error"]["code"] == "stale_consent_text"
    assert await consent_rows(services) == []

    version = {"text_version": consent.CONSENT_VERSION}
    status, body = await call(client, "POST", f"{base}/consent", candidate, version)
    assert status == 200, body
    assert body["consented"] is True
    assert body["consented_at"] is not None
    again, _ = await call(client, "POST", f"{base}/consent", candidate, version)
    assert again == 200
    rows = await consent_rows(services)
    assert len(rows) == 1
    assert (rows[0].exam_id, rows[0].user_id) == (exam_id, candidate.id)
    assert rows[0].text_version == consent.CONSENT_VERSION
    assert rows[0].ip == "127.0.0.1"

    attempt = await start(client, candidate, exam_id)
    assert attempt["status"] == "in_progress"
    page = await client.get(f"/exams/attempt/{attempt['id']}", headers=headers(candidate))
    assert page.status == 200
    html = await page.text()
    assert 'id="proctoring-widget"' in html
    assert "proctoring/widget.js" in html


async def test_consent_to_an_older_text_does_not_count(
    client: Client, services: Services, candidate: User, exam_id: int
) -> None:
    async with services.db.session() as db:
        db.add(ProctoringConsent(exam_id=exam_id, user_id=candidate.id, text_version="2020-01"))
        await db.commit()
    status, summary = await call(client, "GET", f"/api/v1/exams/{exam_id}/proctoring", candidate)
    assert status == 200
    assert summary["consented"] is False
    assert (await start(client, candidate, exam_id, expect=409))["error"]["code"] == (
        "consent_required"
    )
    version = {"text_version": consent.CONSENT_VERSION}
    url = f"/api/v1/exams/{exam_id}/proctoring/consent"
    assert (await call(client, "POST", url, candidate, version))[0] == 200
    rows = await consent_rows(services)
    assert [r.text_version for r in rows] == [consent.CONSENT_VERSION]
    await start(client, candidate, exam_id)


async def test_other_people_get_404(
    client: Client,
    services: Services,
    examiner: User,
    candidates: list[User],
    exam_id: int,
) -> None:
    stranger = candidates[1]
    version = {"text_version": consent.CONSENT_VERSION}
    offer_pc, sdp = await make_offer()
    try:
        for method, path, body in [
            ("GET", "proctoring", None),
            ("POST", "proctoring/consent", version),
            ("POST", "rtc/check", {"sdp": sdp, "type": "offer"}),
            ("GET", "rtc/check", None),
        ]:
            for exam in (exam_id, 999_999, "abc"):
                status, reply = await call(
                    client, method, f"/api/v1/exams/{exam}/{path}", stranger, body
                )
                assert status == 404, (method, path, exam, reply)
                assert reply["error"]["code"] == "not_found"
    finally:
        await offer_pc.close()
    assert await consent_rows(services) == []
    registry = registry_for(services)
    assert registry is not None
    assert registry.peers == {}


async def test_an_unpublished_exam_is_404(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    question = await add_question(services, "essay")
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        publish=False,
        proctoring_policy=POLICY,
    )
    status, _ = await call(client, "GET", f"/api/v1/exams/{exam['id']}/proctoring", candidate)
    assert status == 404


async def test_an_exam_without_proctoring_needs_no_consent(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    question = await add_question(services, "essay")
    exam = await create_exam(client, examiner, sections=[fixed(question)], candidates=[candidate])
    status, summary = await call(client, "GET", f"/api/v1/exams/{exam['id']}/proctoring", candidate)
    assert status == 200
    assert summary["enabled"] is False
    assert summary["rules"] == []
    attempt = await start(client, candidate, exam["id"])
    page = await client.get(f"/exams/attempt/{attempt['id']}", headers=headers(candidate))
    assert page.status == 200
    assert "proctoring-widget" not in await page.text()


async def test_rules_leave_out_the_candidates_exemptions(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    question = await add_question(services, "essay")
    seat = {"user_id": candidate.id, "exempt_detectors": ["face", "clipboard"]}
    exam = await create_exam(
        client, examiner, sections=[fixed(question)], candidates=[seat], proctoring_policy=POLICY
    )
    status, summary = await call(client, "GET", f"/api/v1/exams/{exam['id']}/proctoring", candidate)
    assert status == 200
    kinds = {rule["kind"] for rule in summary["rules"]}
    assert not kinds & {"no_face", "multiple_faces", "clipboard"}
    assert "tab_hidden" in kinds


async def test_the_hook_refuses_only_proctored_exams_without_consent(
    services: Services, candidate: User, exam_id: int
) -> None:
    assert candidate.id is not None
    assert await invigilator_attempt_starting(services, exam_id, candidate.id, {}) is None
    assert await invigilator_attempt_starting(services, exam_id, candidate.id, POLICY) == (
        "consent_required"
    )
    # A policy that no longer validates but says "enabled" still needs consent.
    broken = {"enabled": True, "unknown": 1}
    assert await invigilator_attempt_starting(services, exam_id, candidate.id, broken) == (
        "consent_required"
    )
    async with services.db.session() as db:
        await consent.record_consent(db, exam_id, candidate.id, "10.0.0.1")
    assert await invigilator_attempt_starting(services, exam_id, candidate.id, POLICY) is None


class Tone(AudioStreamTrack):
    """A 440 Hz tone at about -13 dBFS, paced like aiortc's silent track."""

    async def recv(self) -> av.AudioFrame:
        silent = await super().recv()
        t = (silent.pts + np.arange(silent.samples)) / silent.sample_rate
        samples = (0.3 * 32767 * np.sin(2 * math.pi * 440 * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.pts, frame.sample_rate = silent.pts, silent.sample_rate
        frame.time_base = fractions.Fraction(1, silent.sample_rate)
        return frame


async def eventually_ready(client: Client, user: User, url: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    body: dict[str, Any] = {}
    while not body.get("ready"):
        assert loop.time() < deadline, f"the check never became ready: {body}"
        await asyncio.sleep(0.2)
        status, body = await call(client, "GET", url, user)
        assert status == 200, body
    return body


async def test_system_check_over_loopback(
    client: Client, services: Services, candidate: User, exam_id: int
) -> None:
    url = f"/api/v1/exams/{exam_id}/rtc/check"
    status, idle = await call(client, "GET", url, candidate)
    assert status == 200
    assert idle["connected"] is False
    assert idle["state"] == "none"
    assert idle["ready"] is False
    assert [c["name"] for c in idle["checks"]] == [
        "camera",
        "microphone",
        "connection",
        "face",
        "light",
    ]
    assert all(not c["ok"] and c["message"] for c in idle["checks"])

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(Photo())
    pc.addTrack(Tone())
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
    try:
        status, body = await call(client, "POST", url, candidate, offer)
        assert status == 409
        assert body["error"]["code"] == "consent_required"
        version = {"text_version": consent.CONSENT_VERSION}
        await call(
            client, "POST", f"/api/v1/exams/{exam_id}/proctoring/consent", candidate, version
        )

        status, body = await call(client, "POST", url, candidate, offer)
        assert status == 200, body
        assert body["type"] == "answer"
        registry = registry_for(services)
        assert registry is not None
        assert candidate.id is not None
        assert list(registry.peers) == [check_key(exam_id, candidate.id)]
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type="answer"))

        seen = await eventually_ready(client, candidate, url)
        assert seen["connected"] is True
        assert seen["state"] == "connected"
        assert (seen["frame_width"], seen["frame_height"]) == (512, 512)
        assert seen["frames_received"] > 0
        assert seen["audio_chunks"] > 0
        assert -20 < seen["audio_level"] < -8
        assert seen["faces"] == 1
        assert 60 < seen["brightness"] < 220
        assert all(c["ok"] for c in seen["checks"])
    finally:
        await pc.close()

    assert await services.events.query(attempt_id=check_key(exam_id, candidate.id)) == []
    response = await client.delete(url, headers=headers(candidate))
    assert response.status == 204
    assert registry.peers == {}
    status, after = await call(client, "GET", url, candidate)
    assert after["state"] == "none"
    assert after["ready"] is False


async def test_check_offer_refuses_what_the_attempt_offer_refuses(
    client: Client, services: Services, candidate: User, exam_id: int
) -> None:
    async with services.db.session() as db:
        assert candidate.id is not None
        await consent.record_consent(db, exam_id, candidate.id, "")
    url = f"/api/v1/exams/{exam_id}/rtc/check"
    status, body = await call(client, "POST", url, candidate, {"sdp": "hello", "type": "offer"})
    assert status == 422
    assert body["error"]["code"] == "invalid_sdp"
    status, body = await call(client, "POST", url, candidate, {"sdp": "x", "type": "answer"})
    assert status == 422
    pc, sdp = await make_offer(video=4, audio=0)
    try:
        status, body = await call(client, "POST", url, candidate, {"sdp": sdp, "type": "offer"})
    finally:
        await pc.close()
    assert status == 422
    assert body["error"]["code"] == "too_many_tracks"


def _frame(value: int) -> av.VideoFrame:
    array = np.full((120, 160, 3), value, dtype=np.uint8)
    return av.VideoFrame.from_ndarray(array, format="bgr24").reformat(format="yuv420p")


def test_light_and_sound_verdicts() -> None:
    dark, fine, glare = (brightness(_frame(v)) for v in (20, 128, 250))
    assert dark is not None
    assert fine is not None
    assert glare is not None
    assert dark < candidate_api.LIGHT_MIN < fine < candidate_api.LIGHT_MAX < glare
    assert candidate_api._light(dark).message.startswith("Too dark: face a window")
    assert not candidate_api._light(glare).ok
    assert candidate_api._light(fine).ok

    assert audio_level([]) is None
    assert audio_level([np.zeros(512, dtype=np.int16)]) == LEVEL_FLOOR_DBFS
    full = np.full(512, 32767, dtype=np.int16)
    assert audio_level([full]) == pytest.approx(0.0, abs=0.01)
    quiet = np.full(512, 3, dtype=np.int16)
    level = audio_level([quiet])
    assert level is not None
    assert level < candidate_api.SILENCE_DBFS


def test_face_verdicts() -> None:
    assert candidate_api._face(True, 1, True).ok
    two = candidate_api._face(True, 2, True)
    assert not two.ok
    assert "2 faces" in two.message
    assert not candidate_api._face(True, 0, True).ok
    assert not candidate_api._face(True, None, True).ok
    assert candidate_api._face(False, None, True).ok  # no detector here: not held against anyone
    idle = check_status(None, (True, None))
    assert idle.ready is False
    assert idle.faces is None


async def test_check_page(
    client: Client,
    services: Services,
    examiner: User,
    candidates: list[User],
    exam_id: int,
) -> None:
    owner, stranger = candidates[0], candidates[1]
    page = await client.get(f"/exams/{exam_id}/check", headers=headers(owner))
    assert page.status == 200
    html = await page.text()
    assert f'data-consent-version="{consent.CONSENT_VERSION}"' in html
    assert "every 7 seconds" in html
    assert "proctoring/exam_check.js" in html
    other = await client.get(f"/exams/{exam_id}/check", headers=headers(stranger))
    assert other.status == 404

    question = await add_question(services, "essay")
    plain = await create_exam(client, examiner, sections=[fixed(question)], candidates=[owner])
    response = await client.get(
        f"/exams/{plain['id']}/check", headers=headers(owner), allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/exams"
