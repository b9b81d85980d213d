"""The exams plugin's one door into the question bank.

Drawing, candidate views and grading go through ``plugins/questions/service.py``; this module
adapts those calls to what papers and grading need, so a change in the bank's API touches one
file. Reads of question versions are cached in-process: a version is immutable (an edit writes
a new one), so a cached version can never be stale, and the attempt page and the grader read the
same few versions thousands of times during an exam.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from plugins.exams.papers import BankQuestion, BankSnapshot, FixedRule, PoolRule, PoolSpec, Rule
from plugins.questions import service as questions
from plugins.questions.tables import Question, QuestionVersion

VERSION_CACHE_SIZE = 4096

_versions: OrderedDict[int, QuestionVersion] = OrderedDict()


def _remember(version: QuestionVersion) -> None:
    assert version.id is not None
    _versions[version.id] = version
    _versions.move_to_end(version.id)
    while len(_versions) > VERSION_CACHE_SIZE:
        _versions.popitem(last=False)


async def versions(db: AsyncSession, ids: Iterable[int]) -> dict[int, QuestionVersion]:
    """Question versions by id (missing ids are left out)."""
    wanted = set(ids)
    found = {i: _versions[i] for i in wanted if i in _versions}
    missing = wanted - found.keys()
    if missing:
        rows = await db.execute(select(QuestionVersion).where(col(QuestionVersion.id).in_(missing)))
        for version in rows.scalars():
            _remember(version)
            assert version.id is not None
            found[version.id] = version
    return found


def bank_question(question: Question, version: QuestionVersion) -> BankQuestion:
    assert question.id is not None
    assert version.id is not None
    return BankQuestion(
        question_id=question.id,
        version_id=version.id,
        type=question.type,
        points=float(version.points),
        option_ids=tuple(questions.option_ids(version)),
        shuffleable=bool(questions.shuffleable(version)),
    )


async def pool_members(db: AsyncSession, spec: PoolSpec) -> list[Question]:
    return list(
        await questions.find_pool(
            db,
            tags=list(spec.tags),
            difficulty=spec.difficulty,
            category_id=spec.category_id,
            types=list(spec.types) if spec.types is not None else None,
        )
    )


async def snapshot(db: AsyncSession, sections: Sequence[Sequence[Rule]]) -> BankSnapshot:
    """The bank state the sections draw from: fixed questions and every pool's members."""
    fixed_ids = {r.question_id for rules in sections for r in rules if isinstance(r, FixedRule)}
    specs = {r.pool.key(): r.pool for rules in sections for r in rules if isinstance(r, PoolRule)}
    members: dict[str, list[int]] = {}
    for key, spec in specs.items():
        members[key] = [q.id for q in await pool_members(db, spec) if q.id is not None]
    every = fixed_ids.union(*members.values()) if members else fixed_ids
    rows = await db.execute(
        select(Question).where(col(Question.id).in_(every), col(Question.archived).is_(False))
    )
    live = {q.id: q for q in rows.scalars() if q.id is not None}
    versions_by_question = await questions.current_versions(db, live)
    for version in versions_by_question.values():
        _remember(version)
    current = {
        qid: bank_question(live[qid], version) for qid, version in versions_by_question.items()
    }
    return BankSnapshot(
        fixed={i: current[i] for i in fixed_ids if i in current},
        pools={key: [current[i] for i in ids if i in current] for key, ids in members.items()},
    )


def candidate_view(
    version: QuestionVersion, option_order: Sequence[str] | None, points: float
) -> dict[str, Any]:
    """What a candidate may see of a version: no answers, explanations or hidden tests; the
    options in the paper's order and the points the exam gives the item."""
    order = list(option_order) if option_order is not None else None
    return dict(questions.candidate_view(version, order, points=points))


def grade(payload: Mapping[str, Any], response: Mapping[str, Any] | None) -> questions.GradeResult:
    """The bank's grader: ``GradeResult(fraction, correct, blank, feedback)``."""
    return questions.grade(dict(payload), dict(response) if response is not None else None)


def negative_marked(result: questions.GradeResult, negative_marking: float) -> float:
    """Share of the item's points earned after negative marking (may be below zero)."""
    return float(questions.apply_negative_marking(result, negative_marking))
