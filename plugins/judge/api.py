"""The judge's HTTP API: the candidate's 'Run samples', its results, and the examiner's view.

A candidate may run the samples of a coding item of their own attempt while it is in progress
(not paused, not past its deadline); each run is a ``sample_run`` row queued as ``judge.run``,
and the page polls it. Runs are limited per attempt, by count per minute and by how many may
wait at once, so a loop in a page cannot flood the backend. Candidates see hidden tests only as
verdict, time and memory; the examiner sees every test of every run, hidden ones marked.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from core.errors import NotFound
from plugins.exams import bank, clock, store
from plugins.exams.errors import AttemptClosed, AttemptPaused
from plugins.judge import registry
from plugins.judge.backend import JudgeUnavailable
from plugins.judge.config import JudgeConfig
from plugins.judge.errors import (
    CodeTooLarge,
    JudgeDown,
    LanguageNotOffered,
    NoSamples,
    NotCoding,
    TooManyRuns,
)
from plugins.judge.jobs import RUN_JOB
from plugins.judge.schemas import (
    LanguagesPublic,
    RunIn,
    RunPublic,
    SubmissionList,
    SubmissionPublic,
)
from plugins.judge.service import candidate_view, code_hash, coding_payload, with_expected
from plugins.judge.tables import QUEUED, RUNNING, SAMPLE_RUN, JudgeSubmission
from storage.tables.user import Role
from webapp.routing import ApiRequest, ErrorSpec, Router

log = logging.getLogger(__name__)

router = Router(prefix="/api/v1/judge", tags=["judge"])
SIGNED_IN = frozenset(role.value for role in Role)
NOT_FOUND = ErrorSpec(404, "not_found", "No such attempt, item or run of yours.")


def _item(req: ApiRequest[Any, Any]) -> int:
    raw = req.path["item"]
    if not raw.isdigit() or len(raw) > 6:
        raise NotFound(f"no item {raw!r}")
    return int(raw)


@router.get("/languages", response=LanguagesPublic, roles=SIGNED_IN)
async def languages(req: ApiRequest) -> LanguagesPublic:
    """The configured backend's languages, with the picker's labels and editor modes."""
    name = req.services.section("judge", JudgeConfig).backend
    try:
        judge = await registry.backend(req.services)
    except JudgeUnavailable:
        return LanguagesPublic(backend=name, available=False, languages=[])
    return LanguagesPublic(backend=name, available=True, languages=judge.languages())


@router.post(
    "/attempts/{attempt_id}/items/{item}/runs",
    body=RunIn,
    response=RunPublic,
    status=202,
    roles=store.CANDIDATE,
    max_body_bytes=512 * 1024,
    errors=[
        NOT_FOUND,
        ErrorSpec(409, "attempt_closed", "The attempt is submitted or past its deadline."),
        ErrorSpec(409, "attempt_paused", "A proctor paused the attempt."),
        ErrorSpec(409, "not_a_coding_item", "The item is not a coding question."),
        ErrorSpec(409, "no_samples", "The question has no sample tests to run."),
        ErrorSpec(413, "code_too_large", "The program is larger than [judge] max_code_bytes."),
        ErrorSpec(422, "language_not_offered", "The question does not accept this language."),
        ErrorSpec(429, "too_many_runs", "Too many runs for this attempt; wait a moment."),
        ErrorSpec(503, "judge_unavailable", "The judge cannot run code right now."),
    ],
)
async def run_samples(req: ApiRequest[RunIn, None]) -> RunPublic:
    """Run my program against the item's sample tests; poll the returned run for results."""
    services, body = req.services, req.body
    config = services.section("judge", JudgeConfig)
    user_id, item = store.caller_id(req), _item(req)
    size = len(body.code.encode())
    if size > config.max_code_bytes:
        raise CodeTooLarge(
            f"the program is {size} bytes; the limit is {config.max_code_bytes}",
            details={"limit": config.max_code_bytes},
        )
    async with services.db.session() as db:
        attempt, exam = await store.own_attempt_and_exam(db, req.path["attempt_id"], user_id)
        paper_item = store.paper_item(attempt, item)
        if attempt.status != "in_progress" or clock.attempt_due(attempt, exam, clock.now()):
            raise AttemptClosed("the attempt is closed", details={"status": attempt.status})
        if attempt.paused_at is not None:
            raise AttemptPaused("the proctor paused your exam; wait for them to resume it")
        if paper_item.type != "coding":
            raise NotCoding(f"item {item} is not a coding question")
        payload = (await bank.versions(db, [paper_item.version_id]))[paper_item.version_id]
        coding = coding_payload(payload.payload)
        if body.language not in coding.languages:
            raise LanguageNotOffered(
                f"this question accepts {', '.join(coding.languages)}",
                details={"languages": coding.languages},
            )
        if not coding.samples:
            raise NoSamples("this question has no sample tests")
        pending = await db.scalar(
            select(func.count())
            .select_from(JudgeSubmission)
            .where(
                col(JudgeSubmission.attempt_id) == attempt.id,
                col(JudgeSubmission.kind) == SAMPLE_RUN,
                col(JudgeSubmission.status).in_((QUEUED, RUNNING)),
            )
        )
    if (pending or 0) >= config.max_pending_runs:
        raise TooManyRuns("wait for your earlier runs to finish", details={"pending": pending})
    try:
        await registry.backend(services)
    except JudgeUnavailable as error:
        raise JudgeDown(f"the judge cannot run code right now: {error}") from error
    minute = int(time.time() // 60)
    used = await services.cache.incr(f"judge:runs:{attempt.id}:{minute}", ttl=120)
    if used > config.runs_per_minute:
        raise TooManyRuns(
            f"at most {config.runs_per_minute} runs a minute; try again shortly",
            details={"limit": config.runs_per_minute},
        )
    run_id = uuid.uuid4().hex
    row = JudgeSubmission(
        id=run_id,
        attempt_id=attempt.id,
        item=item,
        kind=SAMPLE_RUN,
        slot=run_id,
        user_id=user_id,
        version_id=paper_item.version_id,
        language=body.language,
        code_sha256=code_hash(body.language, body.code),
        code=body.code,
    )
    async with services.db.session() as db:
        db.add(row)
        await db.commit()
        await db.refresh(row)
    try:
        await services.jobs.enqueue(RUN_JOB, job_id=f"{RUN_JOB}:{run_id}", submission_id=run_id)
    except Exception:  # the sweeper queues it again shortly
        log.exception("judge: could not queue run %s", run_id)
    return _public(row, with_expected(None, coding, final=False))


def _public(row: JudgeSubmission, results: Any) -> RunPublic:
    data = row.model_dump(exclude={"results", "code"})
    return RunPublic.model_validate({**data, "results": results})


@router.get("/runs/{run_id}", response=RunPublic, roles=store.CANDIDATE, errors=[NOT_FOUND])
async def get_run(req: ApiRequest) -> RunPublic:
    """One of my runs: status, then the verdict and per-test results (expected vs actual for
    samples; hidden tests, if any, only as verdict, time and memory)."""
    user_id = store.caller_id(req)
    run_id = req.path["run_id"]
    async with req.services.db.session() as db:
        row = await db.get(JudgeSubmission, run_id) if len(run_id) <= 32 else None
        if row is None or row.user_id != user_id:
            raise NotFound(f"run {run_id} does not exist")
        payload = (await bank.versions(db, [row.version_id]))[row.version_id].payload
    shaped = with_expected(row.results, coding_payload(payload), final=False)
    return _public(row, candidate_view(shaped))


@router.get(
    "/attempts/{attempt_id}/submissions",
    response=SubmissionList,
    roles=store.STAFF,
    errors=[NOT_FOUND],
)
async def attempt_submissions(req: ApiRequest) -> SubmissionList:
    """Every run of an attempt, oldest first, with every test's input, expected output and
    the program's output; hidden tests are included and marked ``hidden``."""
    async with req.services.db.session() as db:
        attempt = await store.get_attempt(db, req.path["attempt_id"])
        rows = list(
            (
                await db.execute(
                    select(JudgeSubmission)
                    .where(col(JudgeSubmission.attempt_id) == attempt.id)
                    .order_by(col(JudgeSubmission.created_at), col(JudgeSubmission.id))
                )
            ).scalars()
        )
        versions = await bank.versions(db, {row.version_id for row in rows})
    items = []
    for row in rows:
        coding = coding_payload(versions[row.version_id].payload)
        shaped = with_expected(row.results, coding, final=True)
        data = row.model_dump(exclude={"results"})
        items.append(SubmissionPublic.model_validate({**data, "results": shaped}))
    return SubmissionList(items=items)
