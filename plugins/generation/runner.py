"""The generation job: one question at a time, each checked, stored or reported.

A question that fails (the generator gave up, the bank refused the content, the reference
solution failed its own tests) becomes an entry in the job's ``errors`` with its type and
number; the job goes on with the next one. Progress (``done`` of ``total``), token usage and
cost are committed after every question so the page's progress bar and the cost log are true
even if the process dies mid-job.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from core.services import Services
from plugins.exams.judge import grade_code
from plugins.generation.backend import (
    GENERATED_TYPES,
    Drafted,
    GenerationFailed,
    GenerationRequest,
    SourceKind,
    UsageMeter,
)
from plugins.generation.config import GenerationConfig
from plugins.generation.registry import build
from plugins.generation.similarity import most_similar, question_text
from plugins.generation.tables import GenerationJob, QuestionDraft, utcnow
from plugins.questions.tables import Question, QuestionVersion

log = logging.getLogger(__name__)
GENERATE_JOB = "generation.run"


async def run_job(ctx: dict[str, Any], *, generation_job_id: int) -> int:
    """Job ``generation.run``: returns how many drafts it wrote."""
    services: Services = ctx["services"]
    async with services.db.session() as db:
        job = await db.get(GenerationJob, generation_job_id)
        if job is None or job.status != "queued":
            return 0  # already run (a retried or duplicated job): never generate twice
        job.status = "running"
        job.heartbeat_at = utcnow()
        db.add(job)
        await db.commit()
        await db.refresh(job)
    try:
        return await _generate(services, job)
    except Exception as error:
        log.exception("generation job %s failed", generation_job_id)
        async with services.db.session() as db:
            stored = await db.get(GenerationJob, generation_job_id)
            assert stored is not None
            stored.status = "failed"
            stored.errors = [*stored.errors, {"type": "", "number": 0, "message": str(error)}]
            stored.finished_at = utcnow()
            db.add(stored)
            await db.commit()
        return 0


async def _generate(services: Services, job: GenerationJob) -> int:
    config = services.section("generation", GenerationConfig)
    generator = build(services, job.backend)
    usage = UsageMeter()
    kind: SourceKind = "material" if job.source_kind == "file" else job.source_kind  # type: ignore[assignment]
    request = GenerationRequest(
        source_kind=kind,
        text=job.source_text,
        difficulty=job.difficulty,  # type: ignore[arg-type]
        language=job.language,
    )
    corpus = await _bank_texts(services)
    errors: list[dict[str, Any]] = []
    titles: list[str] = []
    position = 0
    try:
        for question_type in GENERATED_TYPES:
            for number in range(int(job.counts.get(question_type, 0))):
                position += 1
                asked = replace(request, avoid_titles=tuple(titles))
                try:
                    drafted = await generator.generate(asked, question_type, number, usage)
                    draft = await _checked_draft(services, config, drafted, corpus)
                except Exception as error:
                    errors.append(_failure(job, question_type, number, error))
                else:
                    assert job.id is not None
                    draft.job_id, draft.position = job.id, position
                    titles.append(draft.title)
                    async with services.db.session() as db:
                        db.add(draft)
                        await db.commit()
                await _progress(
                    services, job, position, errors, usage=usage, cost=generator.cost(usage)
                )
    finally:
        await generator.close()
    cost = generator.cost(usage)
    await _progress(services, job, position, errors, usage=usage, cost=cost, final=True)
    log.info(
        "generation job %s (%s): %d drafts, %d failed, %d prompt + %d completion tokens, cost %.4f",
        job.id,
        job.backend,
        len(titles),
        len(errors),
        usage.prompt_tokens,
        usage.completion_tokens,
        cost,
    )
    return len(titles)


def _failure(
    job: GenerationJob, question_type: str, number: int, error: Exception
) -> dict[str, Any]:
    """The job's record of one question that could not be written."""
    if isinstance(error, GenerationFailed):
        message = str(error)
    else:  # a generator plugin's bug must not hide the other questions, nor itself
        log.error("generation job %s: %s %d", job.id, question_type, number + 1, exc_info=error)
        message = f"unexpected error: {error}"
    return {"type": question_type, "number": number + 1, "message": message}


async def _checked_draft(
    services: Services,
    config: GenerationConfig,
    drafted: Drafted,
    corpus: list[tuple[int, str]],
) -> QuestionDraft:
    content = drafted.question
    payload = content.payload.model_dump(mode="json")
    reference_status = "not_applicable"
    if drafted.reference is not None:
        response = {"language": drafted.reference.language, "code": drafted.reference.code}
        try:
            share = await grade_code(services, payload, response)
        except Exception as error:  # a judge that is down raises rather than guess a score
            log.warning("generation: the judge failed on a reference solution: %s", error)
            raise GenerationFailed(
                f"the judge could not run the reference solution ({error}); try again later"
            ) from None
        if share is None:
            reference_status = "not_verified"
        elif share < 1.0:
            raise GenerationFailed(
                f"the reference solution passes only {share:.0%} of its own tests; "
                "the problem was not offered"
            )
        else:
            reference_status = "passed"
    duplicate_of, similarity = None, None
    if corpus:
        best_id, score = most_similar(
            [question_text(content.title, content.body, payload)], corpus
        )[0]
        if best_id is not None and score >= config.duplicate_threshold:
            duplicate_of, similarity = best_id, round(score, 3)
    return QuestionDraft(
        job_id=0,
        type=content.type,
        title=content.title,
        body=content.body,
        points=content.points,
        payload=payload,
        explanation=content.explanation,
        tags=list(content.tags),
        difficulty=content.difficulty,
        reference=drafted.reference.model_dump() if drafted.reference else None,
        reference_status=reference_status,
        duplicate_of=duplicate_of,
        similarity=similarity,
    )


async def _bank_texts(services: Services) -> list[tuple[int, str]]:
    """(question id, text) of every active bank question's current version."""
    async with services.db.session() as db:
        rows = await db.execute(
            select(QuestionVersion)
            .join(
                Question,
                (col(Question.id) == col(QuestionVersion.question_id))
                & (col(Question.current_version) == col(QuestionVersion.version)),
            )
            .where(col(Question.archived).is_(False))
        )
        return [(v.question_id, question_text(v.title, v.body, v.payload)) for v in rows.scalars()]


async def _progress(
    services: Services,
    job: GenerationJob,
    done: int,
    errors: list[dict[str, Any]],
    *,
    usage: UsageMeter,
    cost: float,
    final: bool = False,
) -> None:
    async with services.db.session() as db:
        stored = await db.get(GenerationJob, job.id)
        assert stored is not None
        stored.done, stored.failed, stored.errors = done, len(errors), list(errors)
        stored.prompt_tokens, stored.completion_tokens = (
            usage.prompt_tokens,
            usage.completion_tokens,
        )
        stored.cost = round(cost, 6)
        stored.heartbeat_at = utcnow()
        if final:
            stored.status = "failed" if errors and len(errors) == stored.total else "done"
            stored.finished_at = utcnow()
        db.add(stored)
        await db.commit()
