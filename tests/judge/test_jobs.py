"""Exactly-once runs: racing workers, a worker killed mid-run, a slow worker overtaken, a
backend that is down while an attempt is graded."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from core.services import Services
from plugins.exams.tables import Answer, Attempt
from plugins.judge import grade, jobs, sweeper
from plugins.judge.backend import JudgeUnavailable, RunResult, Verdict
from plugins.judge.config import JudgeConfig
from plugins.judge.tables import DONE, FAILED, FINAL, QUEUED, RUNNING, JudgeSubmission
from storage.tables.user import User
from tests.exams.support import Client, add_question, create_exam, fixed, save, start, submit
from tests.judge.fake_backend_plugin import State
from tests.judge.support import PAYLOAD, RIGHT, WRONG_ON_HIDDEN, add_row, coding_attempt


class JudgeClock:
    def __init__(self) -> None:
        self.offset = timedelta()
        self.real = jobs.now

    def now(self) -> datetime:
        return self.real() + self.offset


@pytest.fixture
def judge_clock(monkeypatch: pytest.MonkeyPatch) -> JudgeClock:
    clock = JudgeClock()
    monkeypatch.setattr(jobs, "now", clock.now)
    return clock


@pytest.fixture
async def attempt(
    client: Client, services: Services, examiner: User, candidate: User
) -> dict[str, Any]:
    return await coding_attempt(client, services, examiner, candidate)


def configure(services: Services, **changes: Any) -> None:
    config = services.section("judge", JudgeConfig)
    services.sections["judge"] = config.model_copy(update=changes)


async def test_two_concurrent_workers_run_it_once(
    services: Services, attempt: dict[str, Any], fake_judge: State
) -> None:
    row = await add_row(services, attempt)
    fake_judge.gate = asyncio.Event()
    first = asyncio.create_task(jobs.run_submission(services, row.id, owner="a"))
    second = asyncio.create_task(jobs.run_submission(services, row.id, owner="b"))
    await fake_judge.started.wait()
    await asyncio.sleep(0.05)  # the loser's claim has long returned by now
    fake_judge.gate.set()
    results = await asyncio.gather(first, second)
    assert len(fake_judge.runs) == 1
    assert [r.status for r in results].count(DONE) == 1  # the loser saw it running
    done = await jobs.load(services, row.id)
    assert (done.status, done.verdict, done.share, done.tries) == (DONE, "accepted", 1.0, 1)
    assert done.lease_owner is None


async def test_a_worker_killed_mid_run_is_replaced_once_its_lease_expires(
    services: Services, attempt: dict[str, Any], fake_judge: State, judge_clock: JudgeClock
) -> None:
    row = await add_row(services, attempt)
    fake_judge.gate = asyncio.Event()
    doomed = asyncio.create_task(jobs.run_submission(services, row.id, owner="doomed"))
    await fake_judge.started.wait()
    doomed.cancel()  # the worker dies mid-run: its lease stays behind
    with pytest.raises(asyncio.CancelledError):
        await doomed
    held = await jobs.load(services, row.id)
    assert (held.status, held.lease_owner, held.tries) == (RUNNING, "doomed", 1)
    assert await sweeper.sweep_once(services) == 0  # the lease is still good
    assert not await jobs.claim(services, row.id, "impatient")

    fake_judge.gate = None
    judge_clock.offset = timedelta(seconds=61)  # lease_seconds = 60
    assert await sweeper.sweep_once(services) == 1
    status = await services.jobs.result(f"{jobs.RUN_JOB}:{row.id}:1")
    assert status == DONE
    done = await jobs.load(services, row.id)
    assert (done.status, done.verdict, done.tries) == (DONE, "accepted", 2)
    assert len(fake_judge.runs) == 2
    assert await sweeper.sweep_once(services) == 0  # nothing left to do


async def test_a_slow_worker_overtaken_does_not_overwrite_the_verdict(
    services: Services, attempt: dict[str, Any], fake_judge: State, judge_clock: JudgeClock
) -> None:
    row = await add_row(services, attempt)
    slow_gate = fake_judge.gate = asyncio.Event()
    slow = asyncio.create_task(jobs.run_submission(services, row.id, owner="slow"))
    await fake_judge.started.wait()
    fake_judge.gate = None
    judge_clock.offset = timedelta(seconds=61)
    fast = await jobs.run_submission(services, row.id, owner="fast")
    assert fast.status == DONE
    recorded = await jobs.load(services, row.id)
    judge_clock.offset = timedelta(seconds=120)
    slow_gate.set()
    late = await slow
    assert not await jobs.record(services, row.id, _wrong())  # a late writer matches nothing
    final = await jobs.load(services, row.id)
    assert late.finished_at == recorded.finished_at == final.finished_at
    assert (final.verdict, final.results) == (recorded.verdict, recorded.results)


def _wrong() -> RunResult:
    return RunResult(verdict=Verdict.WRONG_ANSWER)


async def _answer_and_submit(
    client: Client, candidate: User, attempt: dict[str, Any], code: str
) -> None:
    status, _ = await save(
        client, candidate, attempt["id"], 0, {"language": "python", "code": code}, seq=1
    )
    assert status == 200
    await submit(client, candidate, attempt["id"])


async def _score(services: Services, attempt_id: str) -> float | None:
    async with services.db.session() as db:
        rows = await db.execute(
            select(Answer).where(col(Answer.attempt_id) == attempt_id, col(Answer.item) == 0)
        )
        return rows.scalars().one().score


async def test_grading_records_one_final_verdict_with_hidden_tests(
    client: Client, services: Services, candidate: User, attempt: dict[str, Any], fake_judge: State
) -> None:
    await _answer_and_submit(client, candidate, attempt, WRONG_ON_HIDDEN)
    await services.jobs.result(f"exams.grade_attempt:{attempt['id']}")
    assert await _score(services, attempt["id"]) == pytest.approx(3 * 2 / 4)  # samples only
    async with services.db.session() as db:
        finals = (await db.execute(select(JudgeSubmission))).scalars().all()
        graded = await db.get(Attempt, attempt["id"])
    assert [(r.kind, r.status, r.verdict) for r in finals] == [(FINAL, DONE, "wrong_answer")]
    assert [t["hidden"] for t in (finals[0].results or {})["tests"]] == [False, False, True]
    assert graded is not None
    assert graded.status == "graded"
    # Grading again (a retried job) reuses the verdict: nothing runs twice.
    share = await grade.grade_code(
        services, PAYLOAD, {"language": "python", "code": WRONG_ON_HIDDEN}, attempt["id"], 0
    )
    assert share == pytest.approx(0.5)
    assert len(fake_judge.runs) == 1


async def test_a_backend_down_at_grading_keeps_the_item_pending_then_retries(
    client: Client,
    services: Services,
    candidate: User,
    attempt: dict[str, Any],
    fake_judge: State,
    judge_clock: JudgeClock,
) -> None:
    fake_judge.down = True
    await _answer_and_submit(client, candidate, attempt, RIGHT)
    with pytest.raises(JudgeUnavailable):
        await services.jobs.result(f"exams.grade_attempt:{attempt['id']}")
    assert await _score(services, attempt["id"]) is None  # pending, never a zero
    async with services.db.session() as db:
        row = (await db.execute(select(JudgeSubmission))).scalars().one()
    assert (row.status, row.tries) == (QUEUED, 1)
    assert "switched off" in row.error
    assert await sweeper.sweep_once(services) == 0  # backing off

    fake_judge.down = False
    judge_clock.offset = timedelta(seconds=601)
    assert await sweeper.sweep_once(services) == 1
    await services.jobs.result(f"exams.grade_attempt:{attempt['id']}:judge-1")
    assert await _score(services, attempt["id"]) == 3.0
    done = await jobs.load(services, row.id)
    assert (done.status, done.tries, done.error) == (DONE, 2, "")


async def test_a_final_run_that_keeps_failing_goes_to_a_person(
    client: Client,
    services: Services,
    candidate: User,
    attempt: dict[str, Any],
    fake_judge: State,
) -> None:
    configure(services, max_tries=1)
    fake_judge.down = True
    await _answer_and_submit(client, candidate, attempt, RIGHT)
    with pytest.raises(JudgeUnavailable):
        await services.jobs.result(f"exams.grade_attempt:{attempt['id']}")
    row = (await _rows(services))[0]
    assert row.status == FAILED
    share = await grade.grade_code(
        services, PAYLOAD, {"language": "python", "code": RIGHT}, attempt["id"], 0
    )
    assert share is None  # the hook declines: the item waits for a person
    assert await _score(services, attempt["id"]) is None


async def test_auto_grade_off_leaves_programs_to_a_person(
    client: Client, services: Services, candidate: User, attempt: dict[str, Any], fake_judge: State
) -> None:
    configure(services, auto_grade=False)
    await _answer_and_submit(client, candidate, attempt, RIGHT)
    assert await services.jobs.result(f"exams.grade_attempt:{attempt['id']}") == 1
    assert await _score(services, attempt["id"]) is None
    assert fake_judge.runs == []


async def _rows(services: Services) -> list[JudgeSubmission]:
    async with services.db.session() as db:
        return list((await db.execute(select(JudgeSubmission))).scalars())


async def test_two_programs_in_one_attempt_are_both_graded(
    client: Client, services: Services, examiner: User, candidate: User, fake_judge: State
) -> None:
    first = await add_question(services, "coding", payload=PAYLOAD, points=3)
    second = await add_question(services, "coding", payload=PAYLOAD, points=2)
    exam = await create_exam(
        client, examiner, sections=[fixed(first, second)], candidates=[candidate]
    )
    attempt = await start(client, candidate, exam["id"])
    for item, code in ((0, RIGHT), (1, WRONG_ON_HIDDEN)):
        body = {"language": "python", "code": code}
        assert (await save(client, candidate, attempt["id"], item, body, seq=1))[0] == 200
    await submit(client, candidate, attempt["id"])
    await services.jobs.result(f"exams.grade_attempt:{attempt['id']}", timeout=30)
    async with services.db.session() as db:
        rows = await db.execute(select(Answer).where(col(Answer.attempt_id) == attempt["id"]))
        scores = sorted((a.item, a.score) for a in rows.scalars())
        graded = await db.get(Attempt, attempt["id"])
    assert scores == [(0, 3.0), (1, 1.0)]
    assert graded is not None
    assert (graded.status, graded.score) == ("graded", 4.0)
