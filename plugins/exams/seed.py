"""The demo exams for ``seed-demo``: "Introduction to Python — demo" and a proctored twin.

The first is built from the bank's questions tagged ``demo``: one fixed question of each type
(the objective ones in a first section, the essay and the program in a second) and a pool draw
of the remaining objective demo questions. It stays unproctored, so it can be taken without a
camera. The second, "Proctored demo exam", has the same sections with live proctoring on
(``{"enabled": true}``): consent, the system check and the camera stream come before and during
it. Both are assigned to the demo candidate; the proctored one opens just after the first, so it
is listed second. Plugins seed in registration order, and the exams plugin comes before the
questions plugin, so when the bank has no demo questions yet this runs the bank's own
(idempotent) demo seed first. Running it again changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.services import Services
from plugins.exams import clock, policy, store
from plugins.exams.papers import FixedRule, PoolRule, PoolSpec
from plugins.exams.tables import Exam, ExamCandidate, ExamSection
from plugins.questions import service as questions
from plugins.questions.payloads import OBJECTIVE_TYPES
from plugins.questions.seed import seed_demo_bank
from plugins.questions.tables import Question
from storage.crud.user import get_user_by_email

TITLE = "Introduction to Python — demo"
PROCTORED_TITLE = "Proctored demo exam"
PROCTORED_POLICY: dict[str, Any] = {"enabled": True}
CANDIDATE_EMAIL = "demo-candidate@example.com"
DEMO_TAG = "demo"
TYPES = (
    "single_choice",
    "multiple_choice",
    "true_false",
    "numeric",
    "short_answer",
    "essay",
    "coding",
)


async def _demo_questions(services: Services, db: AsyncSession) -> list[Question]:
    found = await questions.find_pool(db, tags=[DEMO_TAG], difficulty=None, category_id=None)
    if not found:  # the bank's own seed is idempotent: when its hook runs later it adds nothing
        await seed_demo_bank(services)
        found = await questions.find_pool(db, tags=[DEMO_TAG], difficulty=None, category_id=None)
    return found


def _sections(bank: list[Question]) -> list[tuple[str, list[dict[str, Any]]]]:
    """One fixed question per type, then a pool draw from the objective questions left."""
    first: dict[str, Question] = {}
    for question in bank:
        first.setdefault(question.type, question)
    fixed = [first[t] for t in TYPES if t in first]
    spare = [q for q in bank if q not in fixed and q.type in OBJECTIVE_TYPES]
    basics: list[FixedRule | PoolRule] = [
        FixedRule(question_id=q.id or 0) for q in fixed if q.type in OBJECTIVE_TYPES
    ]
    written: list[FixedRule | PoolRule] = [
        FixedRule(question_id=q.id or 0) for q in fixed if q.type not in OBJECTIVE_TYPES
    ]
    if spare:
        types = tuple(sorted({q.type for q in spare}))
        pool = PoolSpec.model_validate({"tags": [DEMO_TAG], "types": types})
        written.append(PoolRule(pool=pool, count=min(2, len(spare)), points=1))
    sections = [("Python basics", basics), ("Writing and code", written)]
    return [
        (title, [r.model_dump(mode="json", exclude_none=True) for r in rules])
        for title, rules in sections
        if rules
    ]


async def _create(db: AsyncSession, bank: list[Question]) -> Exam:
    now = clock.now()
    exam = Exam(
        title=TITLE,
        description="A short tour of every question type. Answers save as you type.",
        status="published",
        opens_at=now - timedelta(minutes=5),
        closes_at=now + timedelta(days=30),
        duration_minutes=30,
        attempts_allowed=3,
        shuffle_questions=True,
        shuffle_options=True,
        release_policy="immediately",
        pass_mark=50,
    )
    db.add(exam)
    await db.flush()
    assert exam.id is not None
    for position, (title, rules) in enumerate(_sections(bank)):
        db.add(ExamSection(exam_id=exam.id, position=position, title=title, rules=rules))
    return exam


async def _create_proctored(db: AsyncSession, demo: Exam) -> Exam:
    """The demo exam's twin with live proctoring on: same sections, a minute later in the list."""
    assert demo.id is not None
    now = clock.now()
    opens = (demo.opens_at or now - timedelta(minutes=5)) + timedelta(minutes=1)
    exam = Exam(
        title=PROCTORED_TITLE,
        description=(
            "The same tour with live proctoring: agree to proctoring and check your camera and "
            "microphone first; a proctor may watch, message, pause or end the exam."
        ),
        status="published",
        opens_at=min(opens, now),
        closes_at=demo.closes_at or now + timedelta(days=30),
        duration_minutes=30,
        attempts_allowed=3,
        shuffle_questions=True,
        shuffle_options=True,
        release_policy="immediately",
        pass_mark=50,
        proctoring_policy=policy.validated(PROCTORED_POLICY),
    )
    db.add(exam)
    await db.flush()
    assert exam.id is not None
    for section in await store.get_sections(db, demo.id):
        db.add(
            ExamSection(
                exam_id=exam.id,
                position=section.position,
                title=section.title,
                rules=list(section.rules),
            )
        )
    return exam


async def _find(db: AsyncSession, title: str) -> Exam | None:
    rows = await db.execute(
        select(Exam).where(col(Exam.title) == title, col(Exam.status) != "archived")
    )
    return rows.scalars().first()


async def _assign_demo_candidate(db: AsyncSession, exam_id: int) -> bool:
    """Assign the demo candidate (once); ``False`` when that account does not exist."""
    candidate = await get_user_by_email(db, email=CANDIDATE_EMAIL)
    if candidate is None or candidate.id is None:
        return False
    seat = await db.execute(
        select(ExamCandidate).where(
            col(ExamCandidate.exam_id) == exam_id, col(ExamCandidate.user_id) == candidate.id
        )
    )
    if seat.scalars().first() is None:
        db.add(ExamCandidate(exam_id=exam_id, user_id=candidate.id))
    return True


async def seed_demo_exam(services: Services) -> list[str]:
    """Create the demo exams once; the lines printed are the same on every run."""
    async with services.db.session() as db:
        exam = await _find(db, TITLE)
        if exam is None:
            bank = await _demo_questions(services, db)
            if not bank:
                return [f"Demo exam skipped: the question bank has no '{DEMO_TAG}' questions"]
            exam = await _create(db, bank)
        proctored = await _find(db, PROCTORED_TITLE) or await _create_proctored(db, exam)
        assert exam.id is not None
        assert proctored.id is not None
        assigned = await _assign_demo_candidate(db, exam.id)
        await _assign_demo_candidate(db, proctored.id)
        await db.commit()
    who = CANDIDATE_EMAIL if assigned else f"nobody yet (no {CANDIDATE_EMAIL} account)"
    return [
        f"Demo exam: {title} (open until {_closes(found)}, for {who})"
        for title, found in ((TITLE, exam), (PROCTORED_TITLE, proctored))
    ]


def _closes(exam: Exam) -> str:
    return f"{exam.closes_at:%Y-%m-%d}" if exam.closes_at else "never"
