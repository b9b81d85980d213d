"""The support pages: a candidate's tickets, the staff queue, and one conversation.

Thin server-rendered shells like every other page: the scripts read the support API, which
stays the one place that decides who sees what. The conversation page looks the ticket up
first, so another person's ticket is the 404 page, not a shell whose script then fails. The
help panel on the exam page is ``templates/support/attempt_help.html``, which the exam page
includes only when this plugin is on.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlmodel import col

from plugins.exams.tables import Exam
from plugins.support.access import CANDIDATE, EVERYONE, STAFF, caller_of, visible_ticket
from plugins.support.config import SupportConfig
from webapp.pages import render
from webapp.routing import ApiRequest, Router

router = Router()
CATEGORIES = (
    ("technical", "Technical problem"),
    ("content", "Question content"),
    ("proctoring", "Proctoring"),
    ("other", "Something else"),
)


def nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    if roles & STAFF:
        return [("Support", "/support/tickets")]
    if roles & CANDIDATE:
        return [("Help", "/support")]
    return []


def _poll(req: ApiRequest) -> float:
    return req.services.section("support", SupportConfig).poll_seconds


@router.get("/support", include_in_schema=False, roles=CANDIDATE)
async def my_tickets_page(req: ApiRequest) -> web.Response:
    """My questions to the exam staff, and a form to ask a new one."""
    return render(
        req.request,
        "support/mine.html",
        {"title": "Help", "categories": CATEGORIES, "poll_seconds": _poll(req)},
    )


@router.get("/support/tickets", include_in_schema=False, roles=STAFF)
async def staff_tickets_page(req: ApiRequest) -> web.Response:
    """Every ticket, filtered by status, exam and age, with unread ones marked."""
    async with req.services.db.session() as db:
        exams = (
            await db.execute(
                select(col(Exam.id), col(Exam.title)).order_by(col(Exam.id).desc()).limit(200)
            )
        ).all()
    return render(
        req.request,
        "support/tickets.html",
        {
            "title": "Support tickets",
            "exams": [{"id": exam_id, "title": title} for exam_id, title in exams],
            "poll_seconds": _poll(req),
        },
    )


@router.get("/support/tickets/{ticket_id}", include_in_schema=False, roles=EVERYONE)
async def ticket_page(req: ApiRequest) -> web.Response:
    """One conversation with the reply box, and close or reopen."""
    caller = caller_of(req)
    async with req.services.db.session() as db:
        ticket = await visible_ticket(db, req.path["ticket_id"], caller)
    return render(
        req.request,
        "support/thread.html",
        {
            "title": ticket.subject,
            "ticket_id": ticket.id,
            "staff": caller.staff,
            "back": "/support/tickets" if caller.staff else "/support",
            "poll_seconds": _poll(req),
        },
    )
