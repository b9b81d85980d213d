"""Papers: a pure function of sections, bank snapshot and seed; stored with the attempt."""

from __future__ import annotations

import random

import pytest

from core.services import Services
from plugins.exams import bank, papers, store
from plugins.exams.papers import (
    BankQuestion,
    BankSnapshot,
    FixedRule,
    PaperError,
    PoolRule,
    PoolSpec,
    build_paper,
    feasibility_problems,
    new_seed,
)
from plugins.exams.tables import Attempt
from plugins.questions import service as questions
from plugins.questions.models import QuestionUpdate
from storage.tables.user import User
from tests.exams.support import Client, add_question, create_exam, fixed, start

ALGEBRA = PoolSpec(tags=("algebra",))
GEOMETRY = PoolSpec(tags=("geometry",))
SEED = "0123456789abcdef0123456789abcdef"


def choice(qid: int, *, shuffleable: bool = True) -> BankQuestion:
    return BankQuestion(
        question_id=qid,
        version_id=qid * 10,
        type="single_choice",
        points=1.0,
        option_ids=("a", "b", "c", "d", "e"),
        shuffleable=shuffleable,
    )


def snapshot() -> BankSnapshot:
    """Fixed questions 1-3, an algebra pool of 4-13 (listed out of order), geometry 20-24."""
    return BankSnapshot(
        fixed={1: choice(1), 2: choice(2, shuffleable=False), 3: choice(3)},
        pools={
            ALGEBRA.key(): [choice(i) for i in (13, 4, 9, 5, 6, 7, 8, 10, 11, 12)],
            GEOMETRY.key(): [choice(i) for i in range(20, 25)],
        },
    )


SECTIONS: list[list[papers.Rule]] = [
    [FixedRule(question_id=1), PoolRule(pool=ALGEBRA, count=3, points=2)],
    [
        FixedRule(question_id=2, points=5),
        FixedRule(question_id=3),
        PoolRule(pool=GEOMETRY, count=2),
    ],
]


def build(seed: str, **flags: bool) -> list[papers.PaperItem]:
    options = {"shuffle_questions": True, "shuffle_options": True} | flags
    return build_paper(SECTIONS, snapshot(), seed, **options)


def test_same_seed_same_paper() -> None:
    seed = new_seed()
    assert len(seed) == 32
    assert build(seed) == build(seed)


def test_pool_order_in_the_snapshot_does_not_matter() -> None:
    reordered = BankSnapshot(
        fixed=snapshot().fixed,
        pools={k: list(reversed(v)) for k, v in snapshot().pools.items()},
    )
    options = {"shuffle_questions": True, "shuffle_options": True}
    assert build_paper(SECTIONS, reordered, SEED, **options) == build(SEED)


def test_different_seeds_give_different_papers() -> None:
    drawn = {tuple((i.question_id, i.option_order) for i in build(new_seed())) for _ in range(20)}
    assert len(drawn) >= 15


def test_the_documented_order_of_operations() -> None:
    """docs/exams.md's order of operations, replayed step by step with ``random.Random``: a
    change to it would silently change every paper an auditor re-derives."""
    rng = random.Random(int(SEED, 16))
    algebra = sorted(i for i in range(4, 14))
    section_one = [1, *rng.sample(algebra, 3)]
    rng.shuffle(section_one)
    section_two = [2, 3, *rng.sample(list(range(20, 25)), 2)]
    rng.shuffle(section_two)
    orders = {}
    for qid in section_one + section_two:
        options = list("abcde")
        if qid != 2:  # question 2 does not allow shuffling
            rng.shuffle(options)
        orders[qid] = tuple(options)

    paper = build(SEED)
    assert [i.question_id for i in paper] == section_one + section_two
    assert [i.section for i in paper] == [0] * 4 + [1] * 4
    assert {i.question_id: i.option_order for i in paper} == orders


def test_pool_draws_count_and_never_repeat_a_question() -> None:
    for _ in range(50):
        paper = build(new_seed())
        ids = [i.question_id for i in paper]
        assert len(ids) == len(set(ids)) == 8
        algebra = [i for i in paper if 4 <= i.question_id <= 13]
        geometry = [i for i in paper if 20 <= i.question_id <= 24]
        assert len(algebra) == 3
        assert len(geometry) == 2
        assert {i.points for i in algebra} == {2.0}
        assert {i.section for i in algebra} == {0}
        assert [i.item for i in paper] == list(range(8))


def test_rule_points_override_the_question_points() -> None:
    paper = build(SEED)
    assert next(i for i in paper if i.question_id == 2).points == 5
    assert next(i for i in paper if i.question_id == 3).points == 1


def test_option_order_is_a_permutation_and_respects_the_question() -> None:
    orders = set()
    for _ in range(30):
        paper = build(new_seed())
        for item in paper:
            assert item.option_order is not None
            assert sorted(item.option_order) == ["a", "b", "c", "d", "e"]
        assert next(i for i in paper if i.question_id == 2).option_order == tuple("abcde")
        orders.add(next(i for i in paper if i.question_id == 1).option_order)
    assert len(orders) > 5
    unshuffled = build(SEED, shuffle_options=False)
    assert {i.option_order for i in unshuffled} == {tuple("abcde")}


def test_without_question_shuffling_the_rules_order_holds() -> None:
    paper = build(new_seed(), shuffle_questions=False)
    assert paper[0].question_id == 1
    assert paper[4].question_id == 2
    assert paper[5].question_id == 3


def test_a_short_pool_cannot_draw() -> None:
    rules: list[list[papers.Rule]] = [[PoolRule(pool=GEOMETRY, count=6)]]
    with pytest.raises(PaperError):
        build_paper(rules, snapshot(), SEED, shuffle_questions=True, shuffle_options=True)
    assert feasibility_problems(rules, snapshot())


def test_feasibility_counts_overlapping_pools_and_fixed_questions() -> None:
    both = PoolSpec(tags=("algebra", "geometry"))
    shared = BankSnapshot(
        fixed={4: choice(4)},
        pools={
            ALGEBRA.key(): [choice(i) for i in range(4, 10)],
            both.key(): [choice(i) for i in (8, 9)],
        },
    )
    fine: list[list[papers.Rule]] = [[FixedRule(question_id=4), PoolRule(pool=ALGEBRA, count=5)]]
    assert feasibility_problems(fine, shared) == []
    # The algebra draw may take 8 and 9 first, leaving the second pool nothing.
    risky: list[list[papers.Rule]] = [
        [PoolRule(pool=ALGEBRA, count=3)],
        [PoolRule(pool=both, count=1)],
    ]
    assert feasibility_problems(risky, shared)
    assert feasibility_problems([[FixedRule(question_id=99)]], shared)
    assert feasibility_problems([[FixedRule(question_id=4), FixedRule(question_id=4)]], shared)
    assert feasibility_problems([], shared) == ["the exam has no questions"]


async def test_the_stored_paper_is_rebuilt_from_its_seed_and_survives_edits(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    fixed_id = await add_question(services, "single_choice")
    for _ in range(6):
        await add_question(services, "true_false", tags=["algebra"])
    exam = await create_exam(
        client,
        examiner,
        sections=[[*fixed(fixed_id), {"pool": {"tags": ["algebra"]}, "count": 3}]],
        candidates=[candidate],
        shuffle_questions=True,
        shuffle_options=True,
    )
    attempt_id = (await start(client, candidate, exam["id"]))["id"]

    async with services.db.session() as db:
        attempt = await db.get(Attempt, attempt_id)
        assert attempt is not None
        rules = store.section_rules(await store.get_sections(db, exam["id"]))
        rebuilt = build_paper(
            rules,
            await bank.snapshot(db, rules),
            attempt.seed,
            shuffle_questions=True,
            shuffle_options=True,
        )
        assert [i.to_json() for i in rebuilt] == attempt.paper
        first_version = store.paper_of(attempt)[0].version_id
        edit = QuestionUpdate(title="Edited after the paper was drawn")
        await questions.update_question(
            db, store.paper_of(attempt)[0].question_id, data=edit, author_id=None
        )

    async with services.db.session() as db:
        again = await db.get(Attempt, attempt_id)
        assert again is not None
        assert store.paper_of(again)[0].version_id == first_version
