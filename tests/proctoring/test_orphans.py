"""A proctored candidate whose camera reaches no process still raises ``camera_off``, and only
one process watches such an attempt."""

from __future__ import annotations

import asyncio
from typing import Any

from core.services import Services
from media.config import MediaConfig
from media.peer import PeerRegistry
from media.sampler import FrameSampler
from plugins.proctoring import orphans
from plugins.proctoring.consent import CONSENT_VERSION
from plugins.proctoring.live import LiveProctoring
from plugins.proctoring.plugin import analysis_for
from plugins.proctoring.tables import ProctoringConsent
from storage.broker.memory import MemoryCache
from storage.tables.user import User
from tests.exams.support import Client, add_question, create_exam, fixed, headers, start
from tests.proctoring.live_kit import proctor, receive

__all__ = ["proctor"]  # a fixture used by name

POLICY = {"enabled": True, "rules": {"camera_off": {"min_duration_s": 1, "gap_s": 1}}}


async def unstreamed_attempt(
    client: Client, services: Services, examiner: User, candidate: User
) -> str:
    question = await add_question(services, "essay")
    exam = await create_exam(
        client, examiner, sections=[fixed(question)], candidates=[candidate],
        proctoring_policy=POLICY,
    )  # fmt: skip
    async with services.db.session() as db:
        db.add(
            ProctoringConsent(
                exam_id=exam["id"], user_id=candidate.id, text_version=CONSENT_VERSION
            )
        )
        await db.commit()
    return str((await start(client, candidate, exam["id"]))["id"])


async def test_a_candidate_who_never_streams_raises_camera_off_on_the_wall(
    client: Client, services: Services, examiner: User, candidate: User, proctor: User
) -> None:
    attempt_id = await unstreamed_attempt(client, services, examiner, candidate)
    ws = await client.ws_connect("/api/v1/proctor/live", headers=headers(proctor))
    assert (await ws.receive_json(timeout=10))["type"] == "hello"
    alert = await receive(
        ws, lambda m: m["type"] == "alert" and m["violation"]["attempt_id"] == attempt_id
    )
    assert alert["violation"]["kind"] == "camera_off"
    tile = await receive(
        ws, lambda m: m["type"] == "tile" and m["tile"]["attempt_id"] == attempt_id
    )
    assert tile["tile"]["connection"] == "none"
    await ws.close()


async def test_one_process_watches_it_and_lets_go_when_the_stream_appears_elsewhere(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    attempt_id = await unstreamed_attempt(client, services, examiner, candidate)
    analysis = analysis_for(services)
    assert analysis is not None
    here = analysis.live
    for _ in range(100):  # the app's own loop claims it at its next status refresh
        if attempt_id in here.attempts:
            break
        await asyncio.sleep(0.1)
    assert here.attempts[attempt_id].orphan_window is not None

    # A second process sharing the cache and database finds it taken.
    registry = PeerRegistry(MediaConfig())
    other = LiveProctoring(services, registry, FrameSampler(registry))
    await other.tick()
    await asyncio.sleep(0.5)
    assert attempt_id not in other.attempts

    # The candidate's stream reaches another process: this one lets the attempt go.
    await orphans.mark_streams(services, [attempt_id])
    for _ in range(100):
        if attempt_id not in here.attempts:
            break
        await asyncio.sleep(0.1)
    assert attempt_id not in here.attempts
    await other.stop()


async def test_claims_hold_for_a_window_and_pass_on_when_the_holder_stops_renewing() -> None:
    cache = MemoryCache()
    services: Any = type("S", (), {"cache": cache})()
    start_of_window = 100 * orphans.WINDOW_S
    number = orphans.window(start_of_window)
    assert await orphans.claim(services, "a", number)  # process A
    assert not await orphans.claim(services, "a", number)  # process B, same window
    mid = start_of_window + orphans.WINDOW_S / 2
    assert await orphans.keep(services, "a", number, mid) == number  # nothing to renew yet
    late = start_of_window + orphans.WINDOW_S - orphans.RENEW_AHEAD_S / 2
    renewed = await orphans.keep(services, "a", number, late)
    assert renewed == number + 1  # A renews ahead of the window's end
    assert await orphans.keep(services, "a", renewed, late + 1) == renewed  # and keeps it
    next_window = start_of_window + orphans.WINDOW_S + 1
    assert not await orphans.claim(services, "a", orphans.window(next_window))  # B still out
    # A dies: nobody renews, and B takes the window after.
    after = start_of_window + 2 * orphans.WINDOW_S + 1
    assert await orphans.claim(services, "a", orphans.window(after))
    # A comes back late, finds its window gone and lets go.
    assert await orphans.keep(services, "a", number + 1, after) is None
