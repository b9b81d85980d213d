"""The proctor's pages: the live wall, one attempt's focus view, and the review page.

Each page is a thin server-rendered shell; the page scripts (``static/wall.js``, ``focus.js``,
``review.js``) read the proctor JSON API and the live WebSocket, so the API stays the one place
that decides what a proctor may see and do. Pages are endpoints with ``include_in_schema=False``
so the web layer enforces their roles exactly as for the API (anonymous → ``/login?next=…``,
wrong role → the 403 page). The attempt pages look the attempt up first, so an unknown id is
the 404 page rather than a shell whose scripts then fail.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.errors import NotFound
from core.policy import catalogue
from plugins.exams import store
from plugins.exams.tables import Exam
from storage.tables.user import User
from webapp.pages import render
from webapp.routing import ApiRequest, Router

router = Router()

PROCTORS = frozenset({"proctor", "examiner", "admin"})
WALL = "/proctor"


def nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    """The header link to the wall, for the roles that may open it."""
    return [("Proctoring", WALL)] if roles & PROCTORS else []


def _exam_filter(req: ApiRequest) -> int | None:
    """``?exam_id=`` as a positive integer; anything else means "every exam", not an error page
    (the filter is a convenience, and a stale bookmark should still open the wall)."""
    raw = req.request.query.get("exam_id", "").strip()
    if raw.isdigit() and 0 < len(raw) <= 12:
        return int(raw)
    return None


async def _attempt(req: ApiRequest) -> dict[str, Any]:
    """The attempt, its exam and its candidate as template values (404 page when unknown)."""
    attempt_id = req.path["attempt_id"]
    async with req.services.db.session() as db:
        attempt = await store.get_attempt(db, attempt_id)
        exam = await db.get(Exam, attempt.exam_id)
        user = await db.get(User, attempt.user_id)
    if exam is None:
        raise NotFound(f"attempt {attempt_id} does not exist")
    candidate = (user.display_name or user.email) if user is not None else f"#{attempt.user_id}"
    return {
        "attempt_id": attempt.id,
        "exam_id": attempt.exam_id,
        "exam_title": exam.title,
        "candidate": candidate,
        "status": attempt.status,
        "started_at": attempt.started_at.isoformat(),
    }


@router.get(WALL, include_in_schema=False, roles=PROCTORS)
async def wall_page(req: ApiRequest) -> web.Response:
    """Every attempt in progress as a tile, risk-sorted, updated live."""
    exam_id = _exam_filter(req)
    exam = None
    if exam_id is not None:
        async with req.services.db.session() as db:
            exam = await db.get(Exam, exam_id)
    return render(
        req.request,
        "proctoring/wall.html",
        {
            "title": "Live proctoring",
            "exam_id": exam_id if exam_id is not None else "",
            "exam_title": exam.title if exam is not None else f"Exam {exam_id}",
        },
    )


@router.get(WALL + "/attempts/{attempt_id}", include_in_schema=False, roles=PROCTORS)
async def focus_page(req: ApiRequest) -> web.Response:
    """One attempt: live video, its badges and timeline, and the proctor's actions."""
    values = await _attempt(req)
    return render(req.request, "proctoring/focus.html", {"title": values["candidate"], **values})


@router.get(WALL + "/review/{attempt_id}", include_in_schema=False, roles=PROCTORS)
async def review_page(req: ApiRequest) -> web.Response:
    """After the fact: violations on a timeline, snapshots, the score and its decisions."""
    values = await _attempt(req)
    return render(
        req.request,
        "proctoring/review.html",
        {
            "title": f"Review · {values['candidate']}",
            "labels": {rule.kind: rule.label for rule in catalogue()},
            **values,
        },
    )
