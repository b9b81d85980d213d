"""Who may see results when, and the examiner's results table and CSV.

Release policy: ``immediately`` shows a candidate their result as soon as every item is scored;
``after_close`` from the exam's ``closes_at`` on; ``manual`` once an examiner releases the exam.
Releasing (``released_at``) opens results under every policy. Candidates never see a partial
result: until each item has a score the answer is ``409 result_pending``.

CSV cells are written for spreadsheets, which execute a cell beginning with ``=``, ``+``, ``-``
or ``@`` (and, in some programs, a tab or carriage return) as a formula. A candidate's display
name is attacker-controlled, so such text cells are prefixed with ``'`` (OWASP's advice); numbers
are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from plugins.exams import grading
from plugins.exams.schemas import ResultRowOut as ResultRow
from plugins.exams.tables import Attempt, Exam
from storage.tables.user import User

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def released(exam: Exam, at: datetime) -> bool:
    """Whether candidates may see their (complete) results now."""
    if exam.released_at is not None and exam.released_at <= at:
        return True
    if exam.release_policy == "immediately":
        return True
    if exam.release_policy == "after_close":
        return exam.closes_at is not None and at >= exam.closes_at
    return False


async def result_rows(db: AsyncSession, exam: Exam) -> list[ResultRow]:
    """One row per attempt of the exam, by candidate then attempt number."""
    rows = await db.execute(
        select(Attempt, col(User.email), col(User.display_name))
        .join(User, col(User.id) == col(Attempt.user_id))
        .where(col(Attempt.exam_id) == exam.id)
        .order_by(col(User.email), col(Attempt.number))
    )
    return [
        ResultRow(
            attempt_id=attempt.id,
            user_id=attempt.user_id,
            email=email,
            display_name=name,
            number=attempt.number,
            status=attempt.status,
            started_at=attempt.started_at,
            deadline_at=attempt.deadline_at,
            submitted_at=attempt.submitted_at,
            time_credit_seconds=attempt.time_credit_seconds,
            score=attempt.score if attempt.status == "graded" else None,
            max_score=attempt.max_score,
            percent=grading.percent(attempt) if attempt.status == "graded" else None,
            passed=grading.passed(exam, attempt),
            ended_by=attempt.ended_by,
            end_reason=attempt.end_reason,
        )
        for attempt, email, name in rows.all()
    ]


CSV_COLUMNS: Sequence[str] = tuple(ResultRow.model_fields)


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(rows: Iterable[ResultRow]) -> str:
    """The results as CSV with a header row (UTF-8, CRLF line ends as RFC 4180 says)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = row.model_dump()
        writer.writerow([safe_cell(values[name]) for name in CSV_COLUMNS])
    return buffer.getvalue()
