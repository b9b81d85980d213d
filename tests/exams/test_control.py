"""A proctor pauses, resumes and ends attempts (``plugins.exams.control``); the exam engine keeps
the clock honest around it. Also: who ended an attempt, the proctoring policy's validation, the
start veto hook and whether an exam is proctored."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from core.hookspecs import hookimpl
from core.services import Services
from plugins.exams import attempts, background, control
from plugins.exams.errors import AttemptClosed
from plugins.exams.tables import Attempt, Exam
from storage.tables.user import User
from tests.exams.support import (
    RIGHT,
    Client,
    FakeClock,
    add_question,
    create_exam,
    fixed,
    headers,
    parse_time,
    save,
    start,
    submit,
    view,
)

REASON = "A second person is answering for the candidate."


@pytest.fixture
async def exam(
    client: Client, services: Services, examiner: User, candidates: list[User]
) -> dict[str, Any]:
    """Two true/false questions, an hour, no close time, 30 s grace."""
    first = await add_question(services, "true_false")
    second = await add_question(services, "true_false")
    return await create_exam(
        client, examiner, sections=[fixed(first, second)], candidates=candidates
    )


async def stored(services: Services, attempt_id: str) -> Attempt:
    async with services.db.session() as db:
        attempt = await db.get(Attempt, attempt_id)
    assert attempt is not None
    return attempt


async def test_pause_refuses_saves_and_submit_and_resume_gives_the_time_back(
    fake_clock: FakeClock,
    client: Client,
    services: Services,
    examiner: User,
    candidate: User,
    exam: dict[str, Any],
) -> None:
    attempt = await start(client, candidate, exam["id"])
    deadline = parse_time(attempt["deadline_at"])
    assert (await save(client, candidate, attempt["id"], 0, RIGHT["true_false"], seq=1))[0] == 200

    fake_clock.advance(minutes=10)
    paused = await control.pause(services, attempt["id"], actor_id=examiner.id)
    assert paused.paused_at == fake_clock.current
    shown = await view(client, candidate, attempt["id"])
    assert (shown["paused"], parse_time(shown["paused_at"])) == (True, fake_clock.current)
    assert shown["proctored"] is False
    assert shown["ended_by"] is None

    fake_clock.advance(minutes=1)
    again = await control.pause(services, attempt["id"], actor_id=examiner.id)  # idempotent
    assert again.paused_at == paused.paused_at

    status, body = await save(client, candidate, attempt["id"], 1, RIGHT["true_false"], seq=1)
    assert (status, body["error"]["code"]) == (409, "attempt_paused")
    assert "wait for them to resume it" in body["error"]["message"]
    refused = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", headers=headers(candidate)
    )
    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "attempt_paused"
    assert (await stored(services, attempt["id"])).status == "in_progress"

    fake_clock.advance(minutes=6)  # paused for 7 minutes in all
    resumed = await control.resume(services, attempt["id"], actor_id=examiner.id)
    assert resumed.paused_at is None
    assert resumed.deadline_at == deadline + timedelta(minutes=7)
    assert resumed.time_credit_seconds == 7 * 60
    shown = await view(client, candidate, attempt["id"])
    assert (shown["paused"], shown["paused_at"]) == (False, None)
    assert parse_time(shown["deadline_at"]) == deadline + timedelta(minutes=7)
    credits = await services.events.query(attempt_id=attempt["id"], kinds=["exams.time_credited"])
    assert [(e.data["seconds"], e.data["reason"]) for e in credits] == [
        (420, "paused by the proctor")
    ]
    due = resumed.deadline_at + timedelta(seconds=30)
    job = f"exams.auto_submit:{attempt['id']}:{int(due.timestamp())}"
    assert await services.jobs.status(job) == "queued"

    again = await control.resume(services, attempt["id"], actor_id=examiner.id)  # idempotent
    assert again.deadline_at == resumed.deadline_at
    assert (await save(client, candidate, attempt["id"], 1, RIGHT["true_false"], seq=1))[0] == 200
    # The seven minutes are real: a save at the new deadline (past the old one + grace) works.
    fake_clock.current = deadline + timedelta(minutes=7)
    assert (await save(client, candidate, attempt["id"], 1, RIGHT["true_false"], seq=2))[0] == 200
    closed = await submit(client, candidate, attempt["id"])
    assert closed["status"] == "graded"
    assert closed["ended_by"] == "timer"  # at the deadline: the page's own timer submits


async def test_a_submit_before_the_deadline_is_the_candidates(
    client: Client, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = await start(client, candidate, exam["id"])
    assert (await submit(client, candidate, attempt["id"]))["ended_by"] == "candidate"


async def test_terminate_ends_like_a_submit_and_records_the_proctor(
    fake_clock: FakeClock,
    client: Client,
    services: Services,
    examiner: User,
    candidate: User,
) -> None:
    objective = await add_question(services, "true_false")
    essay = await add_question(services, "essay")
    program = await add_question(services, "coding")
    exam = await create_exam(
        client, examiner, sections=[fixed(objective, essay, program)], candidates=[candidate]
    )
    attempt = await start(client, candidate, exam["id"])
    assert (await save(client, candidate, attempt["id"], 0, RIGHT["true_false"], seq=1))[0] == 200
    assert (await save(client, candidate, attempt["id"], 1, RIGHT["essay"], seq=1))[0] == 200
    assert (await save(client, candidate, attempt["id"], 2, RIGHT["coding"], seq=1))[0] == 200
    await control.pause(services, attempt["id"], actor_id=examiner.id)  # ending a paused one
    fake_clock.advance(minutes=3)

    ended = await control.terminate(
        services, attempt["id"], actor_id=examiner.id, reason=f"  {REASON} "
    )
    assert (ended.status, ended.ended_by, ended.end_reason) == ("submitted", "proctor", REASON)
    assert ended.submitted_at == fake_clock.current
    assert ended.paused_at is None
    again = await control.terminate(services, attempt["id"], actor_id=examiner.id, reason="x")
    assert (again.submitted_at, again.end_reason) == (ended.submitted_at, REASON)

    # Graded as a submit is: the objective item now, the program offered to the judge in the
    # grading job, the essay (and the program, with no judge installed) left for a person.
    job = f"exams.grade_attempt:{attempt['id']}"
    assert await services.jobs.status(job) in ("queued", "in_progress", "complete")
    await services.jobs.result(job)
    queue = await client.get("/api/v1/grading/queue", headers=headers(examiner))
    waiting = sorted(i["item"] for i in (await queue.json())["items"])
    assert waiting == [1, 2]
    result = await client.get(f"/api/v1/attempts/{attempt['id']}/result", headers=headers(examiner))
    body = await result.json()
    assert (body["ended_by"], body["end_reason"]) == ("proctor", REASON)
    assert body["items"][0]["score"] == 1.0
    assert body["items"][1]["response"] == RIGHT["essay"]  # answers kept

    rows = (
        await (
            await client.get(f"/api/v1/exams/{exam['id']}/results", headers=headers(examiner))
        ).json()
    )["rows"]
    assert [(r["ended_by"], r["end_reason"]) for r in rows] == [("proctor", REASON)]
    sheet = await client.get(f"/api/v1/exams/{exam['id']}/results.csv", headers=headers(examiner))
    table = list(csv.DictReader(io.StringIO(await sheet.text())))
    assert [(r["ended_by"], r["end_reason"]) for r in table] == [("proctor", REASON)]

    with pytest.raises(AttemptClosed):
        await control.pause(services, attempt["id"], actor_id=examiner.id)
    with pytest.raises(AttemptClosed):
        await control.resume(services, attempt["id"], actor_id=examiner.id)
    shown = await view(client, candidate, attempt["id"])
    assert (shown["ended_by"], shown["paused"]) == ("proctor", False)


async def test_a_proctor_cannot_end_what_the_candidate_submitted(
    client: Client, services: Services, examiner: User, candidate: User, exam: dict[str, Any]
) -> None:
    attempt = await start(client, candidate, exam["id"])
    await submit(client, candidate, attempt["id"])
    with pytest.raises(AttemptClosed) as refused:
        await control.terminate(services, attempt["id"], actor_id=examiner.id, reason="late")
    assert refused.value.code == "attempt_closed"
    after = await stored(services, attempt["id"])
    assert (after.ended_by, after.end_reason) == ("candidate", None)


async def test_the_job_and_the_sweeper_leave_a_paused_attempt_alone(
    fake_clock: FakeClock,
    client: Client,
    services: Services,
    examiner: User,
    candidates: list[User],
    exam: dict[str, Any],
) -> None:
    held = await start(client, candidates[0], exam["id"])
    running = await start(client, candidates[1], exam["id"])
    await control.pause(services, held["id"], actor_id=None)
    fake_clock.advance(hours=2)  # both deadlines + grace long gone

    assert await attempts.auto_submit_job({"services": services}, attempt_id=held["id"]) == "paused"
    assert await background.sweep_once(services) == 1  # only the running one
    assert (await stored(services, running["id"])).ended_by == "timer"
    assert (await stored(services, held["id"])).status == "in_progress"
    # A new start resumes the paused attempt (200) rather than closing it as overdue.
    again = await start(client, candidates[0], exam["id"], expect=200)
    assert again["id"] == held["id"]

    resumed = await control.resume(services, held["id"], actor_id=None)
    assert resumed.deadline_at == parse_time(held["deadline_at"]) + timedelta(hours=2)
    assert resumed.time_credit_seconds == 2 * 3600
    assert await background.sweep_once(services) == 0
    status, _ = await save(client, candidates[0], held["id"], 0, RIGHT["true_false"], seq=1)
    assert status == 200


async def test_a_pause_ends_when_the_exam_closes(
    fake_clock: FakeClock,
    client: Client,
    services: Services,
    examiner: User,
    candidates: list[User],
) -> None:
    question = await add_question(services, "true_false")
    closes = fake_clock.current + timedelta(minutes=90)
    exam = await create_exam(
        client, examiner, sections=[fixed(question)], candidates=candidates, closes_at=closes
    )
    first = await start(client, candidates[0], exam["id"])
    second = await start(client, candidates[1], exam["id"])
    await control.pause(services, first["id"], actor_id=examiner.id)
    await control.pause(services, second["id"], actor_id=examiner.id)

    fake_clock.advance(minutes=80)  # past the deadline, before the close: still held
    ctx = {"services": services}
    assert await attempts.auto_submit_job(ctx, attempt_id=first["id"]) == "paused"
    limit = closes + timedelta(seconds=30)
    job = f"exams.auto_submit:{first['id']}:{int(limit.timestamp())}"
    assert await services.jobs.status(job) == "queued"  # re-queued for the close
    assert await background.sweep_once(services) == 0

    fake_clock.current = limit + timedelta(seconds=1)
    assert await attempts.auto_submit_job(ctx, attempt_id=first["id"]) == "auto_submitted"
    ended = await stored(services, first["id"])
    assert (ended.ended_by, ended.paused_at) == ("timer", None)
    with pytest.raises(AttemptClosed):  # resuming after the close: the timer ends it instead
        await control.resume(services, second["id"], actor_id=examiner.id)
    assert (await stored(services, second["id"])).ended_by == "timer"


async def test_a_save_on_its_way_during_a_pause_is_kept_for_the_resume(
    client: Client, services: Services, candidate: User, exam: dict[str, Any]
) -> None:
    """The server refuses a paused save without storing it; the page resends the same seq."""
    attempt = await start(client, candidate, exam["id"])
    await control.pause(services, attempt["id"], actor_id=None)
    status, _ = await save(client, candidate, attempt["id"], 0, RIGHT["true_false"], seq=1)
    assert status == 409
    await control.resume(services, attempt["id"], actor_id=None)
    status, body = await save(client, candidate, attempt["id"], 0, RIGHT["true_false"], seq=1)
    assert (status, body["seq"]) == (200, 1)


# Policy validation ---------------------------------------------------------------------------


async def test_the_proctoring_policy_is_validated_where_settings_are_written(
    client: Client, services: Services, examiner: User
) -> None:
    question = await add_question(services, "true_false")
    bad = await client.post(
        "/api/v1/exams",
        json={"title": "Bad", "proctoring_policy": {"rules": {"no_fase": {"weight": 5}}}},
        headers=headers(examiner),
    )
    assert bad.status == 422
    error = (await bad.json())["error"]
    assert error["code"] == "invalid_policy"
    assert "unknown rule no_fase" in error["message"]

    exam = await create_exam(client, examiner, sections=[fixed(question)], publish=False)
    assert exam["proctoring_policy"] == {}  # {} stays {}
    url = f"/api/v1/exams/{exam['id']}"
    for policy, problem in [
        ({"enabled": "maybe"}, "enabled"),
        ({"rules": {"no_face": {"weight": 500}}}, "rules.no_face.weight"),
        ({"analysis_fps": 0}, "analysis_fps"),
        ({"detectors": ["face"]}, "detectors"),
    ]:
        response = await client.put(
            url, json={"proctoring_policy": policy}, headers=headers(examiner)
        )
        assert response.status == 422, policy
        error = (await response.json())["error"]
        assert error["code"] == "invalid_policy"
        assert problem in error["message"], error["message"]

    wanted = {"enabled": True, "rules": {"no_face": {"weight": 15}}}
    response = await client.put(url, json={"proctoring_policy": wanted}, headers=headers(examiner))
    assert response.status == 200, await response.text()
    assert (await response.json())["proctoring_policy"] == wanted  # no defaults written in
    async with services.db.session() as db:
        stored_exam = await db.get(Exam, exam["id"])
    assert stored_exam is not None
    assert stored_exam.proctoring_policy == wanted


async def test_my_exams_says_which_exams_are_proctored(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    question = await add_question(services, "true_false")
    plain = await create_exam(
        client, examiner, sections=[fixed(question)], candidates=[candidate], title="Plain"
    )
    watched = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        title="Watched",
        proctoring_policy={"enabled": True},
    )
    switched_off = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        title="Tuned but off",
        proctoring_policy={"enabled": False, "analysis_fps": 1},
    )
    listed = await client.get("/api/v1/my/exams", headers=headers(candidate))
    proctored = {e["id"]: e["proctored"] for e in await listed.json()}
    assert proctored == {plain["id"]: False, watched["id"]: True, switched_off["id"]: False}


# The start veto -----------------------------------------------------------------------------


class Gatekeeper:
    """A plugin that refuses every start with ``answer`` until it is ``None``."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, int, dict[str, Any]]] = []
        self.answer: str | None = "consent_required"

    @hookimpl
    async def invigilator_attempt_starting(
        self, services: Services, exam_id: int, user_id: int, proctoring_policy: dict[str, Any]
    ) -> str | None:
        self.asked.append((exam_id, user_id, dict(proctoring_policy)))
        return self.answer


class Broken:
    @hookimpl
    def invigilator_attempt_starting(self, exam_id: int) -> str | None:
        raise RuntimeError(f"cannot check exam {exam_id}")


async def attempt_count(services: Services, exam_id: int) -> int:
    async with services.db.session() as db:
        query = select(func.count()).select_from(Attempt).where(col(Attempt.exam_id) == exam_id)
        return int((await db.execute(query)).scalar_one())


async def test_a_plugin_can_refuse_a_start(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    assert services.plugins is not None
    question = await add_question(services, "true_false")
    policy = {"enabled": False, "analysis_fps": 1.0}  # off: the proctoring plugin lets it start
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[candidate],
        proctoring_policy=policy,
        attempts_allowed=1,
    )
    gate = Gatekeeper()
    services.plugins.register(gate, name="test-gatekeeper")
    try:
        refused = await client.post(
            f"/api/v1/my/exams/{exam['id']}/attempts", headers=headers(candidate)
        )
        assert refused.status == 409
        assert (await refused.json())["error"]["code"] == "consent_required"
        assert gate.asked == [(exam["id"], candidate.id, policy)]
        assert await attempt_count(services, exam["id"]) == 0  # nothing created

        gate.answer = "identity_check_required"
        refused = await client.post(
            f"/api/v1/my/exams/{exam['id']}/attempts", headers=headers(candidate)
        )
        assert (refused.status, (await refused.json())["error"]["code"]) == (
            409,
            "identity_check_required",
        )

        gate.answer = None
        started = await start(client, candidate, exam["id"])
        # Resuming the attempt in progress asks nobody; the exam's own checks come first.
        asked = len(gate.asked)
        assert (await start(client, candidate, exam["id"], expect=200))["id"] == started["id"]
        await submit(client, candidate, started["id"])
        gate.answer = "consent_required"
        used_up = await client.post(
            f"/api/v1/my/exams/{exam['id']}/attempts", headers=headers(candidate)
        )
        assert (await used_up.json())["error"]["code"] == "no_attempts_left"
        assert len(gate.asked) == asked
    finally:
        services.plugins.unregister(gate)


async def test_a_failing_check_refuses_the_start(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    assert services.plugins is not None
    question = await add_question(services, "true_false")
    exam = await create_exam(client, examiner, sections=[fixed(question)], candidates=[candidate])
    broken = Broken()
    services.plugins.register(broken, name="test-broken-gate")
    try:
        refused = await client.post(
            f"/api/v1/my/exams/{exam['id']}/attempts", headers=headers(candidate)
        )
        assert refused.status == 409
        assert (await refused.json())["error"]["code"] == "start_check_failed"
        assert await attempt_count(services, exam["id"]) == 0
    finally:
        services.plugins.unregister(broken)
    await start(client, candidate, exam["id"])
