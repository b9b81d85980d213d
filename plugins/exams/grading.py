"""Automatic grading and totals.

At submit every item gets an answer row with a score where a machine can give one: objective
items through the bank's grader with the exam's negative marking, blank essays and blank programs
with zero. Non-blank essays wait for a person (:mod:`plugins.exams.manual`); non-blank programs
go to the ``exams.grade_attempt`` job, which asks a judge plugin and otherwise leaves them to a
person too. Grading never overwrites a score that is already set, so it is safe to run twice
(a retried job, a submit racing the sweeper) and never undoes a person's mark.

The total is computed only when every item has a score; it is floored at zero (negative marking
can take items below zero, never the whole attempt). An attempt whose every item is scored is
``graded``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core import domain_events
from core.services import Services
from plugins.exams import bank, clock, judge, results, store
from plugins.exams.papers import PaperItem
from plugins.exams.tables import Answer, Attempt, Exam
from plugins.questions.payloads import OBJECTIVE_TYPES

log = logging.getLogger(__name__)

GRADE_JOB = "exams.grade_attempt"
NO_ANSWER = "No answer."


@dataclass(frozen=True)
class Score:
    points: float | None
    feedback: str = ""


def is_blank(item: PaperItem, response: dict[str, Any] | None) -> bool:
    if not response:
        return True
    if item.type == "essay":
        return not str(response.get("text", "")).strip()
    if item.type == "coding":
        return not str(response.get("code", "")).strip()
    return False


def score_objective(
    item: PaperItem, payload: dict[str, Any], response: dict[str, Any] | None, negative: float
) -> Score:
    result = bank.grade(payload, response)
    if result.fraction is None:
        return Score(0.0 if result.blank else None, NO_ANSWER if result.blank else "")
    share = bank.negative_marked(result, negative)
    return Score(round(share * item.points, 6), str(result.feedback or ""))


async def score_item(
    services: Services,
    item: PaperItem,
    payload: dict[str, Any],
    response: dict[str, Any] | None,
    *,
    negative: float,
    use_judge: bool,
    attempt_id: str = "",
) -> Score:
    """The machine's score for one item, or ``Score(None)`` when a person (or judge) must."""
    if item.type in OBJECTIVE_TYPES:
        return score_objective(item, payload, response, negative)
    if is_blank(item, response):
        return Score(0.0, NO_ANSWER)
    if item.type == "coding" and use_judge and response:
        share = await judge.grade_code(
            services, payload, response, attempt_id=attempt_id, item=item.item
        )
        if share is not None:
            return Score(round(share * item.points, 6), "Graded by the judge.")
    return Score(None)


async def grade(services: Services, attempt_id: str, *, use_judge: bool) -> list[str]:
    """Score every unscored item a machine can; returns the types of the items still unscored
    (waiting for a person, or for the judge when ``use_judge`` is off).

    Two graders racing (submit and a retried job) may both insert an unanswered item's row;
    the loser's transaction fails on the unique constraint and simply grades again.
    """
    try:
        pending = await _grade_once(services, attempt_id, use_judge=use_judge)
    except IntegrityError:
        pending = await _grade_once(services, attempt_id, use_judge=use_judge)
    await update_totals(services, attempt_id)
    return pending


async def _grade_once(services: Services, attempt_id: str, *, use_judge: bool) -> list[str]:
    async with services.db.session() as db:
        attempt = await store.get_attempt(db, attempt_id)
        if attempt.status == "in_progress":
            return []
        exam = await store.get_exam(db, attempt.exam_id)
        paper = store.paper_of(attempt)
        rows = await db.execute(select(Answer).where(col(Answer.attempt_id) == attempt_id))
        answers = {answer.item: answer for answer in rows.scalars()}
        payloads = {
            vid: dict(v.payload)
            for vid, v in (await bank.versions(db, [i.version_id for i in paper])).items()
        }
        pending: list[str] = []
        for item in paper:
            answer = answers.get(item.item)
            if answer is not None and answer.score is not None:
                continue
            score = await score_item(
                services,
                item,
                payloads[item.version_id],
                answer.response if answer is not None else None,
                negative=exam.negative_marking,
                use_judge=use_judge,
                attempt_id=attempt_id,
            )
            if score.points is None:
                pending.append(item.type)
            await _store_score(db, attempt_id, item, answer, score)
            # Each score on its own: a judge writes its own rows while it grades the next
            # item, which an open write here would block on SQLite.
            await db.commit()
    return pending


async def _store_score(
    db: AsyncSession, attempt_id: str, item: PaperItem, answer: Answer | None, score: Score
) -> None:
    if answer is None:  # never answered: a blank row carries the score and the feedback
        await db.execute(
            insert(Answer).values(
                attempt_id=attempt_id,
                item=item.item,
                question_version_id=item.version_id,
                response={},
                seq=0,
                flagged=False,
                saved_at=clock.now(),
                score=score.points,
                feedback=score.feedback,
            )
        )
    elif score.points is not None:
        await db.execute(
            update(Answer)
            .where(col(Answer.id) == answer.id, col(Answer.score).is_(None))
            .values(score=score.points, feedback=score.feedback)
        )


async def after_submit(services: Services, attempt_id: str) -> None:
    """Grade what can be graded now; hand programs to the judge job. A failure here leaves
    the attempt submitted and queues the job, which grades it again from scratch."""
    try:
        needs_job = "coding" in await grade(services, attempt_id, use_judge=False)
    except Exception:
        log.exception("exams: grading %s at submit failed; queued for a retry", attempt_id)
        needs_job = True
    if needs_job:
        await enqueue_grading(services, attempt_id)


async def enqueue_grading(services: Services, attempt_id: str) -> None:
    try:
        await services.jobs.enqueue(
            GRADE_JOB, job_id=f"{GRADE_JOB}:{attempt_id}", attempt_id=attempt_id
        )
    except Exception:
        log.exception("exams: could not queue grading of %s", attempt_id)


async def grade_attempt_job(ctx: dict[str, Any], *, attempt_id: str) -> int:
    """Job ``exams.grade_attempt``: grade with the judge; returns items left for a person."""
    return len(await grade(ctx["services"], attempt_id, use_judge=True))


async def update_totals(services: Services, attempt_id: str) -> None:
    """Total and ``graded`` status once every item has a score.

    The step to ``graded`` is a conditional update, so exactly one caller makes it; when the
    exam shows results as soon as they are complete (or has released them already), that
    caller tells the candidate (``results.released`` for this attempt).
    """
    async with services.db.session() as db:
        attempt = await store.get_attempt(db, attempt_id)
        if attempt.status == "in_progress":
            return
        paper = store.paper_of(attempt)
        rows = await db.execute(
            select(col(Answer.item), col(Answer.score)).where(col(Answer.attempt_id) == attempt_id)
        )
        scores = dict(rows.all())
        maximum = round(sum(item.points for item in paper), 6)
        complete = all(scores.get(item.item) is not None for item in paper)
        values: dict[str, Any] = {"max_score": maximum}
        if complete:
            total = sum(float(scores[item.item] or 0.0) for item in paper)
            values |= {"score": round(max(total, 0.0), 6), "graded_at": clock.now()}
        await db.execute(
            update(Attempt)
            .where(col(Attempt.id) == attempt_id, col(Attempt.status) != "in_progress")
            .values(**values)
        )
        newly_graded = False
        if complete:
            stepped = await db.execute(
                update(Attempt)
                .where(
                    col(Attempt.id) == attempt_id,
                    col(Attempt.status).not_in(("in_progress", "graded")),
                )
                .values(status="graded")
            )
            newly_graded = getattr(stepped, "rowcount", 0) == 1
        exam = await db.get(Exam, attempt.exam_id) if newly_graded else None
        await db.commit()
    if exam is not None and results.released(exam, clock.now()):
        data = {"exam_id": exam.id, "attempt_id": attempt_id, "user_id": attempt.user_id}
        await domain_events.emit(services, "results.released", data)


def percent(attempt: Attempt) -> float | None:
    if attempt.score is None or not attempt.max_score:
        return None
    return round(100.0 * attempt.score / attempt.max_score, 2)


def passed(exam: Exam, attempt: Attempt) -> bool | None:
    share = percent(attempt)
    if exam.pass_mark is None or share is None or attempt.status != "graded":
        return None
    return share >= exam.pass_mark
