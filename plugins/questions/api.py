"""HTTP API of the question bank (examiners and admins): questions, versions, categories.

Handlers are thin: validation lives in the models, rules in :mod:`~plugins.questions.service`.
Question ids in paths are digits only (``{question_id:\\d+}``) so ``/questions/export`` and
``/questions/import`` can never be read as a question id.
"""

from __future__ import annotations

from plugins.questions import service
from plugins.questions.config import QuestionsConfig
from plugins.questions.models import (
    CategoryIn,
    CategoryOut,
    QuestionIn,
    QuestionOut,
    QuestionPage,
    QuestionQuery,
    QuestionSummary,
    QuestionUpdate,
    VersionOut,
    VersionQuery,
)
from plugins.questions.tables import Question, QuestionVersion
from webapp.binding import principal_of
from webapp.routing import ApiRequest, ErrorSpec, Router

STAFF = {"examiner", "admin"}
QUESTION = "/{question_id:\\d+}"

router = Router(prefix="/api/v1", tags=["questions"])

_NOT_FOUND = ErrorSpec(404, "not_found", "No such question (or version).")
_CONFLICT = ErrorSpec(409, "conflict", "The question changed since base_version; reload it.")
_INVALID = ErrorSpec(422, "invalid_input", "A rule the models cannot check (e.g. category).")


def author_of(req: ApiRequest) -> int | None:
    """The caller's user id as the tables store it (None for a non-numeric id)."""
    principal = principal_of(req.request)
    if principal is None or not principal.user_id.isdigit():
        return None
    return int(principal.user_id)


def _question_id(req: ApiRequest) -> int:
    return int(req.path["question_id"])


def _out(question: Question, version: QuestionVersion, tags: list[str]) -> QuestionOut:
    return QuestionOut.model_validate(
        {
            **question.model_dump(),
            "tags": tags,
            "content": VersionOut.model_validate(version, from_attributes=True),
        }
    )


@router.get("/questions", query=QuestionQuery, response=QuestionPage, roles=STAFF)
async def list_questions(req: ApiRequest[None, QuestionQuery]) -> QuestionPage:
    """Questions matching every filter, by id, with their current title and points.

    ``archived`` defaults to false; pass ``archived=true`` for archived ones only. ``limit`` is
    capped by ``[questions] max_page_size``; the page says which limit was applied.
    """
    query = req.query
    limit = min(query.limit, req.services.section("questions", QuestionsConfig).max_page_size)
    async with req.services.db.session() as db:
        rows, total = await service.list_questions(
            db, filters=query, limit=limit, offset=query.offset
        )
        tags = await service.tags_of(db, [q.id for q, _ in rows if q.id is not None])
    items = [
        QuestionSummary(
            id=q.id or 0,
            type=q.type,
            title=v.title,
            points=v.points,
            current_version=q.current_version,
            category_id=q.category_id,
            difficulty=q.difficulty,
            archived=q.archived,
            tags=tags.get(q.id or 0, []),
            updated_at=q.updated_at,
        )
        for q, v in rows
    ]
    return QuestionPage(items=items, total=total, limit=limit, offset=query.offset)


@router.post(
    "/questions",
    body=QuestionIn,
    response=QuestionOut,
    status=201,
    roles=STAFF,
    errors=[_INVALID],
)
async def create_question(req: ApiRequest[QuestionIn, None]) -> QuestionOut:
    """Create a question; its content becomes version 1.

    ``payload.type`` must equal ``type``; payload shapes per type are in docs/exams.md.
    """
    async with req.services.db.session() as db:
        question, version = await service.create_question(
            db, data=req.body, author_id=author_of(req)
        )
    return _out(question, version, sorted(req.body.tags))


@router.get(
    "/questions" + QUESTION,
    query=VersionQuery,
    response=QuestionOut,
    roles=STAFF,
    errors=[_NOT_FOUND],
)
async def get_question(req: ApiRequest[None, VersionQuery]) -> QuestionOut:
    """A question with its current version, or the version ``?version=N`` names."""
    question_id = _question_id(req)
    async with req.services.db.session() as db:
        question = await service.get_question(db, question_id)
        number = req.query.version or question.current_version
        version = await service.get_version_number(db, question_id, number)
        tags = await service.tags_of(db, [question_id])
    return _out(question, version, tags[question_id])


@router.put(
    "/questions" + QUESTION,
    body=QuestionUpdate,
    response=QuestionOut,
    roles=STAFF,
    errors=[_NOT_FOUND, _CONFLICT, _INVALID],
)
async def update_question(req: ApiRequest[QuestionUpdate, None]) -> QuestionOut:
    """Edit a question. Changed content writes a new version (older ones stay readable and
    unchanged, so papers already drawn keep theirs); tags, difficulty, category and archived
    change the question without a new version. Send ``base_version`` to be told (409) when
    someone else saved first."""
    question_id = _question_id(req)
    async with req.services.db.session() as db:
        question, version = await service.update_question(
            db, question_id, data=req.body, author_id=author_of(req)
        )
        tags = await service.tags_of(db, [question_id])
    return _out(question, version, tags[question_id])


@router.delete("/questions" + QUESTION, status=204, roles=STAFF, errors=[_NOT_FOUND])
async def archive_question(req: ApiRequest) -> None:
    """Archive a question: gone from lists and pools, never deleted (attempts reference its
    versions). ``PUT {"archived": false}`` restores it."""
    async with req.services.db.session() as db:
        await service.archive_question(db, _question_id(req))


@router.get(
    "/questions" + QUESTION + "/versions",
    response=list[VersionOut],
    roles=STAFF,
    errors=[_NOT_FOUND],
)
async def list_versions(req: ApiRequest) -> list[QuestionVersion]:
    """Every version of a question, oldest first."""
    async with req.services.db.session() as db:
        return await service.list_versions(db, _question_id(req))


@router.get("/question-categories", response=list[CategoryOut], roles=STAFF)
async def list_categories(req: ApiRequest) -> list[CategoryOut]:
    """All categories, by id; ``parent_id`` builds the tree."""
    async with req.services.db.session() as db:
        categories = await service.list_categories(db)
    return [CategoryOut.model_validate(c, from_attributes=True) for c in categories]


@router.post(
    "/question-categories",
    body=CategoryIn,
    response=CategoryOut,
    status=201,
    roles=STAFF,
    errors=[
        ErrorSpec(409, "conflict", "The parent already has a category of that name."),
        _INVALID,
    ],
)
async def create_category(req: ApiRequest[CategoryIn, None]) -> CategoryOut:
    """Create a category, under ``parent_id`` when given."""
    async with req.services.db.session() as db:
        category = await service.create_category(
            db, name=req.body.name, parent_id=req.body.parent_id
        )
    return CategoryOut.model_validate(category, from_attributes=True)
