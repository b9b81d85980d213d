"""HTTP API of question generation (examiners and admins; anyone else gets 403).

Starting a job answers 202 at once with the job; the page then polls ``GET /jobs/{id}`` for
progress and lists the drafts. Material comes as JSON text or as an uploaded file
(``multipart/form-data`` with a ``file`` part and an ``options`` part holding the same JSON
as the text route minus ``source_kind`` and ``text``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aiohttp import BodyPartReader
from pydantic import ValidationError

from core.errors import InvalidInput, InvigilatorError, Unavailable
from plugins.generation import drafts
from plugins.generation.config import UPLOAD_HARD_CAP_MB, GenerationConfig
from plugins.generation.material import MaterialRejected, extract_text
from plugins.generation.registry import factories
from plugins.generation.runner import GENERATE_JOB
from plugins.generation.schemas import (
    ApproveIn,
    DraftOut,
    DraftPage,
    DraftQuery,
    DraftUpdate,
    GenerateIn,
    GenerateOptions,
    JobOut,
)
from plugins.generation.tables import GenerationJob
from plugins.questions.api import STAFF, author_of
from webapp.routing import ApiRequest, ErrorSpec, Router

MB = 1024 * 1024
router = Router(prefix="/api/v1/generation", tags=["generation"])
DRAFT = "/drafts/{draft_id:\\d+}"

_NOT_FOUND = ErrorSpec(404, "not_found", "No such job or draft.")
_DONE = ErrorSpec(409, "conflict", "The draft is already approved or rejected.")
_INVALID = ErrorSpec(422, "invalid_input", "The content is not a valid question, or no backend.")


class TooLarge(InvigilatorError):
    code = "payload_too_large"
    status = 413


class Unsupported(InvigilatorError):
    code = "unsupported_media_type"
    status = 415


class OptionsInvalid(InvalidInput):
    code = "validation_error"


async def _start(
    req: ApiRequest, options: GenerateOptions, kind: str, text: str, name: str
) -> JobOut:
    services = req.services
    config = services.section("generation", GenerationConfig)
    total = sum(options.counts.values())
    if total > config.max_questions_per_job:
        raise InvalidInput(
            f"{total} questions asked; one job may write at most {config.max_questions_per_job}"
        )
    if len(text) > config.max_material_chars:
        raise TooLarge(
            f"the material has {len(text)} characters; the limit is {config.max_material_chars}",
            details={"limit": config.max_material_chars},
        )
    if config.backend not in factories(services):
        raise InvalidInput(f"[generation] backend {config.backend!r} is not installed")
    async with services.db.session() as db:
        job = await drafts.create_job(
            db,
            options=options,
            source_kind=kind,
            text=text,
            source_name=name,
            backend=config.backend,
            author_id=author_of(req),
        )
        try:
            await services.jobs.enqueue(
                GENERATE_JOB, job_id=f"{GENERATE_JOB}:{job.id}", generation_job_id=job.id
            )
        except Exception as error:
            job.status = "failed"
            job.errors = [{"type": "", "number": 0, "message": "the job queue is unavailable"}]
            db.add(job)
            await db.commit()
            raise Unavailable("the job queue is unavailable; try again shortly") from error
        await db.refresh(job)
    return _job_out(job)


def _job_out(job: GenerationJob) -> JobOut:
    return JobOut.model_validate(job, from_attributes=True)


@router.post(
    "/jobs",
    body=GenerateIn,
    response=JobOut,
    status=202,
    roles=STAFF,
    errors=[_INVALID, ErrorSpec(413, "payload_too_large", "Material over max_material_chars.")],
)
async def generate(req: ApiRequest[GenerateIn, None]) -> JobOut:
    """Start generating from a topic, a syllabus or pasted material; 202 with the job.

    Poll ``GET /api/v1/generation/jobs/{id}`` for progress; drafts appear as they are written.
    """
    body = req.body
    return await _start(req, body, body.source_kind, body.text, "")


@router.post(
    "/jobs/upload",
    response=JobOut,
    status=202,
    roles=STAFF,
    max_body_bytes=UPLOAD_HARD_CAP_MB * MB + 64 * 1024,
    errors=[
        ErrorSpec(413, "payload_too_large", "The file is over [generation] max_upload_mb."),
        ErrorSpec(415, "unsupported_media_type", "Send multipart/form-data."),
        ErrorSpec(422, "material_invalid", "Not a readable PDF, Markdown or text file."),
        ErrorSpec(422, "validation_error", "The options part is not valid."),
        _INVALID,
    ],
)
async def generate_from_file(req: ApiRequest) -> JobOut:
    """Start generating from an uploaded PDF, Markdown or text file (multipart: ``file``,
    ``options``); 202 with the job."""
    request = req.request
    if request.content_type != "multipart/form-data":
        raise Unsupported("send the file as multipart/form-data with parts 'file' and 'options'")
    limit = int(req.services.section("generation", GenerationConfig).max_upload_mb * MB)
    options_raw, data, name = None, None, ""
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "options":
            options_raw = await part.text()
        elif part.name == "file":
            name = part.filename or ""
            data = await _read_capped(part, limit)
    if data is None:
        raise MaterialRejected("no 'file' part in the upload")
    options = _options(options_raw)
    text = extract_text(data, name)
    return await _start(req, options, "file", text, name)


async def _read_capped(part: BodyPartReader, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the file is over {limit} bytes", details={"limit": limit})
        chunks.append(chunk)
    return b"".join(chunks)


def _options(raw: str | None) -> GenerateOptions:
    try:
        data: Any = json.loads(raw) if raw else None
        return GenerateOptions.model_validate(data)
    except json.JSONDecodeError as error:
        raise OptionsInvalid(f"the options part is not JSON ({error.msg})") from None
    except ValidationError as error:
        details = [
            {"loc": ["options", *e["loc"]], "msg": e["msg"]}
            for e in error.errors(include_url=False, include_input=False)
        ]
        raise OptionsInvalid("invalid options", details=details) from None


@router.get("/jobs/{job_id:\\d+}", response=JobOut, roles=STAFF, errors=[_NOT_FOUND])
async def get_job(req: ApiRequest) -> JobOut:
    """A job's status, progress (``done`` of ``total``), per-question errors, tokens, cost."""
    config = req.services.section("generation", GenerationConfig)
    stale_after = timedelta(minutes=config.stale_after_minutes)
    async with req.services.db.session() as db:
        return _job_out(await drafts.get_job(db, int(req.path["job_id"]), stale_after=stale_after))


@router.get("/drafts", query=DraftQuery, response=DraftPage, roles=STAFF)
async def list_drafts(req: ApiRequest[None, DraftQuery]) -> DraftPage:
    """Drafts, by job and order written; filter by ``job_id`` and ``status``."""
    async with req.services.db.session() as db:
        rows, total = await drafts.list_drafts(db, req.query)
    return DraftPage(
        items=[DraftOut.model_validate(d, from_attributes=True) for d in rows], total=total
    )


@router.put(
    DRAFT,
    body=DraftUpdate,
    response=DraftOut,
    roles=STAFF,
    errors=[_NOT_FOUND, _DONE, _INVALID],
)
async def update_draft(req: ApiRequest[DraftUpdate, None]) -> DraftOut:
    """Edit a draft (text, options, tags, difficulty…); it must stay a valid question."""
    async with req.services.db.session() as db:
        draft = await drafts.update_draft(db, int(req.path["draft_id"]), req.body)
    return DraftOut.model_validate(draft, from_attributes=True)


@router.post(
    DRAFT + "/approve",
    body=ApproveIn,
    response=DraftOut,
    roles=STAFF,
    errors=[_NOT_FOUND, _DONE, _INVALID],
)
async def approve_draft(req: ApiRequest[ApproveIn, None]) -> DraftOut:
    """Put the draft in the bank (in ``category_id``); exactly once, the answer names the
    question made (``question_id``)."""
    async with req.services.db.session() as db:
        draft = await drafts.approve_draft(
            db,
            int(req.path["draft_id"]),
            category_id=req.body.category_id,
            author_id=author_of(req),
        )
    return DraftOut.model_validate(draft, from_attributes=True)


@router.post(DRAFT + "/reject", response=DraftOut, roles=STAFF, errors=[_NOT_FOUND, _DONE])
async def reject_draft(req: ApiRequest) -> DraftOut:
    """Discard the draft; it stays listed as rejected and can no longer be approved."""
    async with req.services.db.session() as db:
        draft = await drafts.reject_draft(db, int(req.path["draft_id"]))
    return DraftOut.model_validate(draft, from_attributes=True)
