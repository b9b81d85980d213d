"""The exams pages: a candidate's exams, the exam itself and its result, and the examiner's
exams, question bank and grading queue.

Each page is a thin server-rendered shell; the page scripts (``static/*.js``) talk to the JSON
API, which stays the one place that checks ownership, deadlines and answers. Pages are
endpoints with ``include_in_schema=False`` so the web layer enforces their roles exactly as for
the API (anonymous → ``/login?next=…``, wrong role → the 403 page). The attempt pages also look
the attempt up as the caller's own, so another candidate's attempt is a 404 page.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlmodel import col

from plugins.exams import store
from plugins.exams.policy import is_proctored
from storage.tables.user import User
from webapp.pages import render
from webapp.routing import ApiRequest, Router

router = Router()

QUESTION_TYPES = (
    ("single_choice", "Single choice"),
    ("multiple_choice", "Multiple choice"),
    ("true_false", "True / false"),
    ("numeric", "Number"),
    ("short_answer", "Short answer"),
    ("essay", "Essay"),
    ("coding", "Code"),
)
# Candidate accounts offered as suggestions when assigning people to an exam by email.
MAX_SUGGESTED_CANDIDATES = 2000


def nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    """Header links for the exams pages a person with ``roles`` may open."""
    items: list[tuple[str, str]] = []
    if roles & store.CANDIDATE:
        items.append(("My exams", "/exams"))
    if roles & store.STAFF:
        items += [
            ("Exams", "/admin/exams"),
            ("Questions", "/admin/questions"),
            ("Grading", "/admin/grading"),
        ]
    return items


async def _own_attempt(req: ApiRequest) -> dict[str, Any]:
    """The caller's attempt and its exam as template values (404 when not theirs)."""
    async with req.services.db.session() as db:
        attempt = await store.own_attempt(db, req.path["attempt_id"], store.caller_id(req))
        exam = await store.get_exam(db, attempt.exam_id)
    return {
        "attempt_id": attempt.id,
        "exam_title": exam.title,
        "status": attempt.status,
        "release_policy": exam.release_policy,
        "closes_at": exam.closes_at.isoformat() if exam.closes_at else "",
        "proctored": is_proctored(exam.proctoring_policy),
        "ended_by": attempt.ended_by or "",
        "end_reason": attempt.end_reason or "",
    }


@router.get("/exams", include_in_schema=False, roles=store.CANDIDATE)
async def my_exams_page(req: ApiRequest) -> web.Response:
    """The exams assigned to me, with Start, Resume and View result."""
    return render(req.request, "exams/my_exams.html", {"title": "My exams"})


@router.get("/exams/attempt/{attempt_id}", include_in_schema=False, roles=store.CANDIDATE)
async def attempt_page(req: ApiRequest) -> web.Response:
    """The exam: one question at a time, the timer, the save state and submit."""
    values = await _own_attempt(req)
    if values["status"] != "in_progress":
        raise web.HTTPSeeOther(f"/exams/attempt/{values['attempt_id']}/result")
    return render(req.request, "exams/attempt.html", {"title": values["exam_title"], **values})


@router.get("/exams/attempt/{attempt_id}/result", include_in_schema=False, roles=store.CANDIDATE)
async def result_page(req: ApiRequest) -> web.Response:
    """My score and per-item marks once released; otherwise when they will be."""
    values = await _own_attempt(req)
    return render(
        req.request, "exams/result.html", {"title": f"Result · {values['exam_title']}", **values}
    )


@router.get("/admin/exams", include_in_schema=False, roles=store.STAFF)
async def exams_admin_page(req: ApiRequest) -> web.Response:
    """Every exam with its status and window; create and publish."""
    return render(req.request, "exams/admin_exams.html", {"title": "Exams"})


@router.get("/admin/exams/{exam_id}", include_in_schema=False, roles=store.STAFF)
async def exam_admin_page(req: ApiRequest) -> web.Response:
    """One exam: settings, sections, candidates and results."""
    exam_id = store.path_int(req, "exam_id")
    async with req.services.db.session() as db:
        exam = await store.get_exam(db, exam_id)
        accounts = (
            await db.execute(
                select(col(User.id), col(User.email), col(User.display_name))
                .where(col(User.role) == "candidate")
                .order_by(col(User.email))
                .limit(MAX_SUGGESTED_CANDIDATES)
            )
        ).all()
    return render(
        req.request,
        "exams/admin_exam.html",
        {
            "title": exam.title,
            "exam_id": exam_id,
            "candidate_accounts": [
                {"id": user_id, "email": email, "name": name} for user_id, email, name in accounts
            ],
        },
    )


@router.get("/admin/questions", include_in_schema=False, roles=store.STAFF)
async def questions_admin_page(req: ApiRequest) -> web.Response:
    """The question bank: filters, create and edit, import."""
    return render(
        req.request,
        "exams/admin_questions.html",
        {"title": "Question bank", "types": QUESTION_TYPES},
    )


@router.get("/admin/grading", include_in_schema=False, roles=store.STAFF)
async def grading_admin_page(req: ApiRequest) -> web.Response:
    """Answers waiting for a person, with rubric marks."""
    return render(req.request, "exams/admin_grading.html", {"title": "Grading"})
