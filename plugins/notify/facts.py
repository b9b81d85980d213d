"""Who an event concerns and what its message says: users, the exam, the attempt.

Events carry ids, not records (see ``invigilator_domain_event``), so each is looked up here
once per event. The exams tables are read, never written: the exams plugin owns them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from plugins.exams.tables import Attempt, Exam, ExamCandidate
from storage.tables.user import User

LINKS = {
    "account.created": "/login",
    "account.password_reset": "/forgot-password",
    "exam.scheduled": "/exams",
    "exam.reminder": "/exams",
    "attempt.started": "/exams",
    "attempt.submitted": "/exams",
    "results.released": "/exams",
    "violation.raised": "/proctor",
    "violation.digest": "/proctor",
}


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


@dataclass
class Facts:
    """What one event is about, looked up once."""

    exam: Exam | None = None
    attempt: Attempt | None = None
    users: list[User] = field(default_factory=list)

    def exam_view(self) -> dict[str, Any]:
        if self.exam is None:
            return {"title": "", "opens_at": "", "closes_at": ""}
        return {
            "id": self.exam.id,
            "title": self.exam.title,
            "opens_at": when(self.exam.opens_at),
            "closes_at": when(self.exam.closes_at),
        }


async def users_by_id(db: AsyncSession, ids: list[int]) -> list[User]:
    if not ids:
        return []
    rows = await db.execute(
        select(User).where(col(User.id).in_(ids), col(User.is_active).is_(True))
    )
    return sorted(rows.scalars(), key=lambda u: u.id or 0)


async def candidates_of(db: AsyncSession, exam_id: int) -> list[int]:
    rows = await db.execute(
        select(col(ExamCandidate.user_id)).where(col(ExamCandidate.exam_id) == exam_id)
    )
    return [int(u) for u in rows.scalars()]


async def sat(db: AsyncSession, exam_id: int) -> list[int]:
    """Candidates with a closed attempt: the ones who have a result to see."""
    rows = await db.execute(
        select(col(Attempt.user_id))
        .where(col(Attempt.exam_id) == exam_id, col(Attempt.status) != "in_progress")
        .distinct()
    )
    return [int(u) for u in rows.scalars() if u is not None]


async def proctors(db: AsyncSession) -> list[int]:
    """Exams do not name their proctors, so violation alerts go to every active proctor."""
    rows = await db.execute(
        select(col(User.id)).where(col(User.role) == "proctor", col(User.is_active).is_(True))
    )
    return [int(u) for u in rows.scalars() if u is not None]


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def gather(db: AsyncSession, name: str, data: dict[str, Any]) -> Facts:
    """The exam, attempt and recipients of ``name``; ``recipient_ids`` in data wins."""
    facts = Facts()
    if isinstance(data.get("attempt_id"), str):
        facts.attempt = await db.get(Attempt, data["attempt_id"])
    exam_id = _int(data.get("exam_id")) or (facts.attempt.exam_id if facts.attempt else None)
    if exam_id is not None:
        facts.exam = await db.get(Exam, exam_id)
    ids: list[int]
    if isinstance(data.get("recipient_ids"), list):
        ids = [i for i in (_int(v) for v in data["recipient_ids"]) if i is not None]
    elif name.startswith("violation."):
        ids = await proctors(db)
    elif name.startswith(("attempt.", "account.")) or "user_id" in data:
        one = _int(data.get("user_id")) or (facts.attempt.user_id if facts.attempt else None)
        ids = [one] if one is not None else []
    elif isinstance(data.get("user_ids"), list):
        ids = [i for i in (_int(v) for v in data["user_ids"]) if i is not None]
    elif exam_id is not None and name == "results.released":
        ids = await sat(db, exam_id)
    elif exam_id is not None and name == "exam.scheduled":
        ids = await candidates_of(db, exam_id)
    else:
        ids = []
    facts.users = await users_by_id(db, ids)
    return facts
