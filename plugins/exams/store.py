"""Look-ups every exams endpoint repeats, with the ownership rules in one place.

A candidate asking for something that is not theirs (another person's attempt, an exam they
are not assigned to or that is not published) gets the same 404 as for something that does not
exist, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import Forbidden, NotFound
from plugins.exams.papers import PaperItem, Rule, parse_rule
from plugins.exams.tables import Attempt, Exam, ExamCandidate, ExamSection
from webapp.binding import principal_of
from webapp.keys import Principal
from webapp.routing import ApiRequest

STAFF = frozenset({"examiner", "admin"})
CANDIDATE = frozenset({"candidate"})
CLOSED_STATUSES = ("submitted", "auto_submitted", "graded")


def caller(req: ApiRequest[Any, Any]) -> Principal:
    principal = principal_of(req.request)
    if principal is None:  # the binding already refused anonymous callers
        raise Forbidden("sign in first")
    return principal


def caller_id(req: ApiRequest[Any, Any]) -> int:
    """The signed-in person's user id; machine clients without a numeric id cannot sit exams."""
    try:
        return int(caller(req).user_id)
    except ValueError:
        raise Forbidden("this endpoint needs a user account") from None


def is_staff(principal: Principal) -> bool:
    return bool(principal.roles & STAFF)


def path_int(req: ApiRequest[Any, Any], name: str) -> int:
    """A numeric path parameter; anything else cannot name a row, so it is a 404."""
    value = req.path[name]
    if not value.isdigit() or len(value) > 18:
        raise NotFound(f"no {name.removesuffix('_id')} {value!r}")
    return int(value)


async def get_exam(db: AsyncSession, exam_id: int) -> Exam:
    exam = await db.get(Exam, exam_id)
    if exam is None:
        raise NotFound(f"exam {exam_id} does not exist")
    return exam


async def get_sections(db: AsyncSession, exam_id: int) -> list[ExamSection]:
    rows = await db.execute(
        select(ExamSection)
        .where(col(ExamSection.exam_id) == exam_id)
        .order_by(col(ExamSection.position), col(ExamSection.id))
    )
    return list(rows.scalars())


def section_rules(sections: Sequence[ExamSection]) -> list[list[Rule]]:
    return [[parse_rule(rule) for rule in section.rules] for section in sections]


async def assignment(db: AsyncSession, exam_id: int, user_id: int) -> ExamCandidate | None:
    rows = await db.execute(
        select(ExamCandidate).where(
            col(ExamCandidate.exam_id) == exam_id, col(ExamCandidate.user_id) == user_id
        )
    )
    return rows.scalars().first()


async def candidate_exam(
    db: AsyncSession, exam_id: int, user_id: int
) -> tuple[Exam, ExamCandidate]:
    """A published exam the candidate is assigned to, else 404."""
    exam = await db.get(Exam, exam_id)
    seat = await assignment(db, exam_id, user_id) if exam is not None else None
    if exam is None or seat is None or exam.status != "published":
        raise NotFound(f"exam {exam_id} does not exist")
    return exam, seat


async def get_attempt(db: AsyncSession, attempt_id: str) -> Attempt:
    attempt = await db.get(Attempt, attempt_id) if len(attempt_id) <= 32 else None
    if attempt is None:
        raise NotFound(f"attempt {attempt_id} does not exist")
    return attempt


async def own_attempt(db: AsyncSession, attempt_id: str, user_id: int) -> Attempt:
    """The caller's own attempt, else 404 (never 403: that would confirm the id exists)."""
    attempt = await get_attempt(db, attempt_id)
    if attempt.user_id != user_id:
        raise NotFound(f"attempt {attempt_id} does not exist")
    return attempt


async def own_attempt_and_exam(
    db: AsyncSession, attempt_id: str, user_id: int
) -> tuple[Attempt, Exam]:
    """:func:`own_attempt` and its exam in one query (autosave reads both on every save)."""
    rows = await db.execute(
        select(Attempt, Exam)
        .join(Exam, col(Exam.id) == col(Attempt.exam_id))
        .where(col(Attempt.id) == attempt_id[:33])
    )
    found = rows.first()
    if found is None or found[0].user_id != user_id:
        raise NotFound(f"attempt {attempt_id} does not exist")
    return found[0], found[1]


def paper_of(attempt: Attempt) -> list[PaperItem]:
    return [PaperItem.from_json(item) for item in attempt.paper]


def paper_item(attempt: Attempt, item: int) -> PaperItem:
    if not 0 <= item < len(attempt.paper):
        raise NotFound(f"attempt {attempt.id} has no item {item}")
    return PaperItem.from_json(attempt.paper[item])
