"""The notifications pages: my inbox and settings, and the administrators' delivery history.

Thin server-rendered shells; the page scripts talk to the JSON API (``api``, ``admin_api``).
"""

from __future__ import annotations

from aiohttp import web

from plugins.notify.admin_api import ADMIN
from plugins.notify.live_ws import SIGNED_IN
from webapp.pages import render
from webapp.routing import ApiRequest, Router

router = Router()


def nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    # Everyone signed in reaches /notifications through the bell in the header.
    items: list[tuple[str, str]] = []
    if roles & ADMIN:
        items.append(("Deliveries", "/admin/notifications"))
    return items


@router.get("/notifications", include_in_schema=False, roles=SIGNED_IN)
async def inbox_page(req: ApiRequest) -> web.Response:
    """My notifications (updated live) and which messages I get on which channel."""
    return render(req.request, "notify/inbox.html", {"title": "Notifications"})


@router.get("/admin/notifications", include_in_schema=False, roles=ADMIN)
async def history_page(req: ApiRequest) -> web.Response:
    """Every message sent or tried, with filters, the reason of each failure, and retry."""
    return render(req.request, "notify/history.html", {"title": "Deliveries"})
