"""Import and export between the bank and Moodle XML / GIFT files.

Import is all-or-nothing: every question in the file is read and validated first, each problem
is reported with the question's position and name, and only a file without problems is written,
in one transaction. A teacher fixing a 200-question file then sees every mistake at once and
never has to work out which half of the file already went in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput
from plugins.questions import gift, gift_export, moodle_xml, moodle_xml_export
from plugins.questions.categories import check_category, create_category, find_category
from plugins.questions.categories import list_categories as all_categories
from plugins.questions.config import QuestionsConfig
from plugins.questions.interchange import (
    Draft,
    ExportItem,
    ExportResult,
    FileRejected,
    ImportFailed,
    ParseResult,
    problem,
)
from plugins.questions.models import (
    ExportQuery,
    ImportQuery,
    ImportResult,
    QuestionIn,
    Tag,
)
from plugins.questions.queries import list_questions, tags_of
from plugins.questions.service import create_question

TITLE_MAX = 200
_TAG: TypeAdapter[str] = TypeAdapter(Tag)


def read_file(data: bytes, file_format: str) -> ParseResult:
    """Parse a file of either format; whole-file problems raise :class:`FileRejected`."""
    if file_format == "moodle_xml":
        return moodle_xml.parse(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRejected(f"a GIFT file must be UTF-8 text (byte {error.start} is not)") from None
    return gift.parse(text)


def validate(
    parsed: ParseResult, query: ImportQuery, config: QuestionsConfig
) -> list[tuple[Draft, QuestionIn]]:
    """Every draft as a valid :class:`QuestionIn`, or :class:`ImportFailed` listing them all."""
    problems = list(parsed.problems)
    if parsed.unsupported and not query.skip_unsupported:
        problems += [
            p.model_copy(
                update={"message": f"{p.message} (import with skip_unsupported to leave it out)"}
            )
            for p in parsed.unsupported
        ]
    if len(parsed.drafts) > config.max_import_questions:
        raise FileRejected(
            f"the file has {len(parsed.drafts)} questions; one import may create at most "
            f"{config.max_import_questions}"
        )
    valid: list[tuple[Draft, QuestionIn]] = []
    for draft in parsed.drafts:
        fields: dict[str, Any] = {"difficulty": query.difficulty, **draft.fields}
        fields["type"] = fields.get("payload", {}).get("type")
        fields["tags"] = [*_usable_tags(draft, fields.get("tags", [])), *query.tag]
        fields["category_id"] = query.category_id
        if len(str(fields.get("title", ""))) > TITLE_MAX:  # Moodle allows 255
            fields["title"] = str(fields["title"])[: TITLE_MAX - 1] + "…"
            draft.warnings.append(f"the name was shortened to {TITLE_MAX} characters")
        try:
            valid.append((draft, QuestionIn.model_validate(fields)))
        except ValidationError as error:
            problems.append(problem(draft, draft.name, draft.line, _reasons(error)))
    if problems:
        problems.sort(key=lambda p: p.index)
        raise ImportFailed(
            f"{len(problems)} question(s) in the file cannot be imported; nothing was written",
            details=[p.model_dump() for p in problems],
        )
    return valid


async def import_file(
    db: AsyncSession,
    *,
    data: bytes,
    query: ImportQuery,
    config: QuestionsConfig,
    author_id: int | None,
) -> ImportResult:
    parsed = read_file(data, query.format)
    valid = validate(parsed, query, config)
    await check_category(db, query.category_id)
    warnings = [problem(d, d.name, d.line, w) for d, _ in valid for w in d.warnings]
    created: list[int] = []
    if not query.dry_run:
        try:
            categories: dict[tuple[str, ...], int] = {}
            for draft, checked in valid:
                data_in = checked
                if query.category_id is None and draft.category_path:
                    category_id = await _category_for(db, draft.category_path, categories)
                    data_in = checked.model_copy(update={"category_id": category_id})
                question, _ = await create_question(
                    db, data=data_in, author_id=author_id, commit=False
                )
                assert question.id is not None
                created.append(question.id)
            await db.commit()
        except Exception:
            await db.rollback()
            raise
    return ImportResult(
        dry_run=query.dry_run,
        created=len(valid),
        question_ids=created,
        warnings=warnings,
        skipped=parsed.unsupported if query.skip_unsupported else [],
    )


async def export_questions(
    db: AsyncSession, *, query: ExportQuery, config: QuestionsConfig
) -> ExportResult:
    rows, total = await list_questions(db, filters=query, limit=config.max_export_questions)
    if total > config.max_export_questions:
        raise InvalidInput(
            f"{total} questions match; one export holds at most {config.max_export_questions}. "
            "Narrow the filters (tag, category_id, type)."
        )
    tags = await tags_of(db, [q.id for q, _ in rows if q.id is not None])
    paths = _category_paths(await all_categories(db))
    items = [
        ExportItem(
            id=q.id or 0,
            type=q.type,
            title=v.title,
            body=v.body,
            points=v.points,
            payload=v.payload,
            explanation=v.explanation,
            tags=tags.get(q.id or 0, []),
            difficulty=q.difficulty,
            category_path=paths.get(q.category_id, []) if q.category_id is not None else [],
        )
        for q, v in rows
    ]
    if query.format == "moodle_xml":
        return moodle_xml_export.export(items)
    return gift_export.export(items)


async def _category_for(
    db: AsyncSession, path: Sequence[str], cache: dict[tuple[str, ...], int]
) -> int:
    """Find or create each category along ``path``; returns the last one's id."""
    parent: int | None = None
    for depth in range(1, len(path) + 1):
        key = tuple(path[:depth])
        if key not in cache:
            name = path[depth - 1][:120]
            found = await find_category(db, name=name, parent_id=parent)
            if found is None:
                found = await create_category(db, name=name, parent_id=parent, commit=False)
            assert found.id is not None
            cache[key] = found.id
        parent = cache[key]
    assert parent is not None
    return parent


def _category_paths(categories: Sequence[Any]) -> dict[int, list[str]]:
    by_id = {c.id: c for c in categories}
    paths: dict[int, list[str]] = {}
    for category in categories:
        path: list[str] = []
        node, seen = category, set()
        while node is not None and node.id not in seen:  # a cycle must not hang the export
            seen.add(node.id)
            path.insert(0, node.name)
            node = by_id.get(node.parent_id)
        paths[category.id] = path
    return paths


def _usable_tags(draft: Draft, tags: list[str]) -> list[str]:
    """Tags from other systems may hold characters the bank refuses (``Q&A``); such a tag is
    dropped with a warning rather than failing the whole file over a label."""
    usable = []
    for tag in tags:
        try:
            usable.append(_TAG.validate_python(tag))
        except ValidationError:
            draft.warnings.append(f"tag {tag[:70]!r} was dropped (not a valid tag)")
    return usable


def _reasons(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False)[:5]:
        where = ".".join(str(part) for part in item["loc"])
        parts.append(f"{where}: {item['msg']}" if where else item["msg"])
    return "; ".join(parts)
