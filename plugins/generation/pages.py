"""The examiner's "Generate questions" page: a thin server-rendered shell.

The page script (``static/generate.js``) talks to the JSON API, which stays the one place that
checks roles and content; the page only lists the question types and the configured backend.
"""

from __future__ import annotations

from aiohttp import web

from plugins.generation.backend import GENERATED_TYPES
from plugins.generation.config import GenerationConfig
from plugins.questions.api import STAFF
from webapp.pages import render
from webapp.routing import ApiRequest, Router

router = Router()
TYPE_LABELS = {
    "single_choice": "Single choice",
    "multiple_choice": "Multiple choice",
    "true_false": "True / false",
    "short_answer": "Short answer",
    "essay": "Essay",
    "coding": "Coding problem",
}


def nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    return [("Generate questions", "/admin/generate")] if roles & STAFF else []


@router.get("/admin/generate", include_in_schema=False, roles=STAFF)
async def generate_page(req: ApiRequest) -> web.Response:
    """Paste or upload material, choose types and counts, review and approve the drafts."""
    config = req.services.section("generation", GenerationConfig)
    return render(
        req.request,
        "generation/generate.html",
        {
            "title": "Generate questions",
            "types": [(t, TYPE_LABELS[t]) for t in GENERATED_TYPES],
            "backend": config.backend,
            "max_upload_mb": config.max_upload_mb,
        },
    )
