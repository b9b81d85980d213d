"""Papers: which question versions an attempt gets, in which order, with which option order.

A paper is a pure function of the exam's sections, a snapshot of the bank and a 128-bit seed,
so any attempt's paper can be re-derived from its stored ``seed`` and audited. The order of
operations is part of the contract (changing it changes every future paper for a given seed):

1. ``rng = random.Random(int(seed, 16))``.
2. Sections in position order; inside a section, rules in their listed order. A fixed rule
   takes its question. A pool rule draws ``rng.sample(candidates, count)`` where
   ``candidates`` are the pool's matching questions sorted by question id, minus every question
   already on the paper and every question fixed anywhere in the exam (so a question never
   appears twice).
3. After a section's rules, when ``shuffle_questions``: ``rng.shuffle`` of that section's
   items (sections themselves keep their order).
4. Then, for every item in final paper order that has options: the question's option ids in
   stored order, ``rng.shuffle``-d when ``shuffle_options`` and the question allows it.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from plugins.questions.payloads import Difficulty, QuestionType

SEED_BYTES = 16


class PoolSpec(BaseModel):
    """Which bank questions a pool rule may draw: every given filter must match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tags: tuple[Annotated[str, Field(min_length=1, max_length=64)], ...] = Field(
        default=(), max_length=10, description="all of these tags"
    )
    difficulty: Difficulty | None = None
    category_id: int | None = Field(None, ge=1)
    types: tuple[QuestionType, ...] | None = Field(None, max_length=7)

    def key(self) -> str:
        """A canonical string for the filter, so equal pools share one bank look-up."""
        data = self.model_dump(mode="json")
        data["tags"] = sorted(data["tags"])
        if data["types"] is not None:
            data["types"] = sorted(data["types"])
        return json.dumps(data, sort_keys=True)


class FixedRule(BaseModel):
    """``{"question_id": 3, "points": 2}``: this question, always."""

    model_config = ConfigDict(extra="forbid")

    question_id: int = Field(ge=1)
    points: float | None = Field(None, gt=0, le=1000, description="default: the question's")


class PoolRule(BaseModel):
    """``{"pool": {...}, "count": 5, "points": 1}``: ``count`` questions drawn at random."""

    model_config = ConfigDict(extra="forbid")

    pool: PoolSpec
    count: int = Field(ge=1, le=200)
    points: float | None = Field(None, gt=0, le=1000, description="default: each question's")


Rule = FixedRule | PoolRule


def parse_rule(data: Mapping[str, Any]) -> Rule:
    """A stored rule (JSON) as its model; the two shapes are told apart by their keys."""
    if "pool" in data:
        return PoolRule.model_validate(data)
    return FixedRule.model_validate(data)


@dataclass(frozen=True)
class BankQuestion:
    """What a paper needs to know about one question's current version."""

    question_id: int
    version_id: int
    type: str
    points: float
    option_ids: tuple[str, ...] = ()
    shuffleable: bool = False


@dataclass(frozen=True)
class BankSnapshot:
    """The bank state a paper is drawn from: fixed questions by id, pools by ``PoolSpec.key``.

    Pool lists must hold only non-archived questions; they are sorted here by question id so
    the draw never depends on the database's row order.
    """

    fixed: Mapping[int, BankQuestion] = field(default_factory=dict)
    pools: Mapping[str, Sequence[BankQuestion]] = field(default_factory=dict)

    def pool(self, spec: PoolSpec) -> list[BankQuestion]:
        return sorted(self.pools.get(spec.key(), ()), key=lambda q: q.question_id)


@dataclass(frozen=True)
class PaperItem:
    """One position of a paper; stored as JSON in ``attempts.paper``."""

    item: int
    section: int
    question_id: int
    version_id: int
    type: str
    points: float
    option_order: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "section": self.section,
            "question_id": self.question_id,
            "version_id": self.version_id,
            "type": self.type,
            "points": self.points,
            "option_order": list(self.option_order) if self.option_order is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PaperItem:
        order = data.get("option_order")
        return cls(
            item=int(data["item"]),
            section=int(data["section"]),
            question_id=int(data["question_id"]),
            version_id=int(data["version_id"]),
            type=str(data["type"]),
            points=float(data["points"]),
            option_order=tuple(order) if order is not None else None,
        )


class PaperError(Exception):
    """The bank cannot supply what the sections ask for (a question missing, a pool short)."""


def new_seed() -> str:
    """A fresh 128-bit seed as 32 hex digits (the width of ``attempts.seed``)."""
    return secrets.token_hex(SEED_BYTES)


def fixed_ids(sections: Sequence[Sequence[Rule]]) -> set[int]:
    return {rule.question_id for rules in sections for rule in rules if isinstance(rule, FixedRule)}


def build_paper(
    sections: Sequence[Sequence[Rule]],
    bank: BankSnapshot,
    seed: str,
    *,
    shuffle_questions: bool,
    shuffle_options: bool,
) -> list[PaperItem]:
    """The paper for ``seed``: identical for the same seed, sections and bank snapshot."""
    rng = random.Random(int(seed, 16))  # noqa: S311 - reproducibility, not secrecy
    used = fixed_ids(sections)
    drawn: list[tuple[int, BankQuestion, float | None]] = []
    for section_index, rules in enumerate(sections):
        section_items: list[tuple[int, BankQuestion, float | None]] = []
        for rule in rules:
            if isinstance(rule, FixedRule):
                question = bank.fixed.get(rule.question_id)
                if question is None:
                    raise PaperError(f"question {rule.question_id} is missing or archived")
                section_items.append((section_index, question, rule.points))
                continue
            candidates = [q for q in bank.pool(rule.pool) if q.question_id not in used]
            if len(candidates) < rule.count:
                raise PaperError(
                    f"a pool of section {section_index + 1} has {len(candidates)} questions "
                    f"left to draw {rule.count} from"
                )
            for question in rng.sample(candidates, rule.count):
                used.add(question.question_id)
                section_items.append((section_index, question, rule.points))
        if shuffle_questions:
            rng.shuffle(section_items)
        drawn.extend(section_items)

    paper: list[PaperItem] = []
    for position, (section_index, question, points) in enumerate(drawn):
        order: tuple[str, ...] | None = None
        if question.option_ids:
            options = list(question.option_ids)
            if shuffle_options and question.shuffleable:
                rng.shuffle(options)
            order = tuple(options)
        paper.append(
            PaperItem(
                item=position,
                section=section_index,
                question_id=question.question_id,
                version_id=question.version_id,
                type=question.type,
                points=points if points is not None else question.points,
                option_order=order,
            )
        )
    return paper


def feasibility_problems(sections: Sequence[Sequence[Rule]], bank: BankSnapshot) -> list[str]:
    """Why no paper could be drawn for some seed, or ``[]`` when every seed works.

    A pool rule is safe when its matching questions, minus the exam's fixed questions, number
    at least its own count plus the counts of earlier pool rules that share a question with it
    (those draws may have taken from it first). That is sufficient whatever the seed.
    """
    problems: list[str] = []
    fixed = fixed_ids(sections)
    seen_fixed: set[int] = set()
    earlier: list[tuple[set[int], int]] = []
    for section_index, rules in enumerate(sections):
        if not rules:
            problems.append(f"section {section_index + 1} has no rules")
        for rule in rules:
            if isinstance(rule, FixedRule):
                if rule.question_id in seen_fixed:
                    problems.append(f"question {rule.question_id} is fixed twice")
                seen_fixed.add(rule.question_id)
                if rule.question_id not in bank.fixed:
                    problems.append(f"question {rule.question_id} is missing or archived")
                continue
            matching = {q.question_id for q in bank.pool(rule.pool)} - fixed
            need = rule.count + sum(count for ids, count in earlier if ids & matching)
            if len(matching) < need:
                problems.append(
                    f"a pool of section {section_index + 1} matches {len(matching)} questions "
                    f"but may need {need}"
                )
            earlier.append((matching, rule.count))
    if not any(sections):
        problems.append("the exam has no questions")
    return problems
