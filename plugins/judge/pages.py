"""The examiner's page of an attempt's code runs: every run, every test, hidden ones marked.

A thin shell: ``static/submissions.js`` reads the examiner API, which checks the role again.
"""

from __future__ import annotations

from aiohttp import web

from plugins.exams import store
from webapp.pages import render
from webapp.routing import ApiRequest, Router

router = Router()


@router.get("/admin/judge/attempts/{attempt_id}", include_in_schema=False, roles=store.STAFF)
async def submissions_page(req: ApiRequest) -> web.Response:
    """Every sample run and final grading run of one attempt, with per-test results."""
    async with req.services.db.session() as db:
        attempt = await store.get_attempt(db, req.path["attempt_id"])
        exam = await store.get_exam(db, attempt.exam_id)
    return render(
        req.request,
        "judge/submissions.html",
        {"title": f"Code runs · {exam.title}", "attempt_id": attempt.id, "exam_title": exam.title},
    )
