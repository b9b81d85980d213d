"""The demo exam: every question type, fixed questions and a pool draw, idempotent, whichever
plugin seeds first."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col

from core.services import Services
from plugins.accounts.seed import seed_demo_users
from plugins.exams import seed, store
from plugins.exams.tables import Exam, ExamCandidate
from plugins.questions.seed import DEMO, seed_demo_bank
from plugins.questions.tables import QuestionTag
from storage.crud.user import get_user_by_email
from tests.exams.support import Client, headers, start, view


async def demo_question_count(services: Services) -> int:
    async with services.db.session() as db:
        query = select(func.count()).select_from(QuestionTag).where(col(QuestionTag.tag) == "demo")
        return int((await db.execute(query)).scalar_one())


async def test_the_demo_exam_before_the_bank_seeds(client: Client, services: Services) -> None:
    await seed_demo_users(services)
    lines = await seed.seed_demo_exam(services)
    assert lines[0].startswith(f"Demo exam: {seed.TITLE} (open until ")
    assert lines[0].endswith(f"for {seed.CANDIDATE_EMAIL})")
    assert await seed.seed_demo_exam(services) == lines  # nothing new, the same report
    await seed_demo_bank(services)  # the bank's own seed, later: adds nothing
    assert await demo_question_count(services) == len(DEMO)

    async with services.db.session() as db:
        exams = list(
            (await db.execute(select(Exam).where(col(Exam.title) == seed.TITLE))).scalars()
        )
        assert len(exams) == 1
        exam = exams[0]
        assert (
            exam.status,
            exam.duration_minutes,
            exam.shuffle_questions,
            exam.shuffle_options,
        ) == (
            "published",
            30,
            True,
            True,
        )
        assert exam.closes_at is not None
        assert exam.opens_at is not None
        assert (exam.closes_at - exam.opens_at).days >= 30
        user = await get_user_by_email(db, email=seed.CANDIDATE_EMAIL)
        assert user is not None
        seats = (
            await db.execute(select(ExamCandidate).where(col(ExamCandidate.exam_id) == exam.id))
        ).scalars()
        assert [s.user_id for s in seats] == [user.id]

    assert user.id is not None
    attempt = await start(client, user, exam.id or 0)
    shown = await view(client, user, attempt["id"])
    assert {i["type"] for i in shown["items"]} == set(seed.TYPES)
    rules = [rule for section in (await _sections(services, exam.id or 0)) for rule in section]
    assert any("pool" in rule for rule in rules)
    assert sum("question_id" in rule for rule in rules) == len(seed.TYPES)
    assert (await client.get("/api/v1/my/exams", headers=headers(user))).status == 200


async def test_the_demo_exam_after_the_bank_seeds(services: Services) -> None:
    await seed_demo_bank(services)
    lines = await seed.seed_demo_exam(services)
    assert f"no {seed.CANDIDATE_EMAIL} account" in lines[-1]
    assert await demo_question_count(services) == len(DEMO)
    await seed_demo_users(services)  # the accounts appear later: a re-run assigns the candidate
    assert (await seed.seed_demo_exam(services))[0].endswith(f"for {seed.CANDIDATE_EMAIL})")


async def _sections(services: Services, exam_id: int) -> list[list[dict[str, object]]]:
    async with services.db.session() as db:
        return [s.rules for s in await store.get_sections(db, exam_id)]


async def test_the_proctored_demo_exam(client: Client, services: Services) -> None:
    await seed_demo_users(services)
    lines = await seed.seed_demo_exam(services)
    assert lines[1].startswith(f"Demo exam: {seed.PROCTORED_TITLE} (open until ")
    assert await seed.seed_demo_exam(services) == lines  # idempotent

    async with services.db.session() as db:
        found = (
            await db.execute(select(Exam).where(col(Exam.title) == seed.PROCTORED_TITLE))
        ).scalars()
        exams = list(found)
        assert len(exams) == 1
        assert exams[0].proctoring_policy == {"enabled": True}
        assert exams[0].status == "published"
        user = await get_user_by_email(db, email=seed.CANDIDATE_EMAIL)
    assert user is not None
    listed = await (await client.get("/api/v1/my/exams", headers=headers(user))).json()
    # The unproctored demo exam stays first (the browser tests take the first one).
    assert [(e["title"], e["proctored"]) for e in listed] == [
        (seed.TITLE, False),
        (seed.PROCTORED_TITLE, True),
    ]
    assert all(e["state"] == "open" for e in listed)
