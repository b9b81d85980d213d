"""The notifications pages, the header bell, and who may open them."""

from __future__ import annotations

from storage.tables.user import User
from tests.exams.support import Client, headers

HTML = {"Accept": "text/html"}


async def test_every_signed_in_page_carries_the_bell(client: Client, candidate: User) -> None:
    page = await client.get("/notifications", headers={**headers(candidate), **HTML})
    assert page.status == 200
    text = await page.text()
    assert "data-notify-bell" in text
    assert "/static/notify/bell.js" in text
    assert "/static/notify/inbox.js" in text
    other = await client.get("/exams", headers={**headers(candidate), **HTML})
    assert "data-notify-bell" in await other.text()
    anonymous = await client.get("/", headers=HTML)
    assert "data-notify-bell" not in await anonymous.text()


async def test_history_page_is_for_admins(client: Client, admin: User, candidate: User) -> None:
    page = await client.get("/admin/notifications", headers={**headers(admin), **HTML})
    assert page.status == 200
    assert "/static/notify/history.js" in await page.text()
    refused = await client.get("/admin/notifications", headers={**headers(candidate), **HTML})
    assert refused.status == 403
    api = await client.get("/api/v1/admin/notifications", headers=headers(candidate))
    assert api.status == 403


async def test_bad_history_filters_are_refused(client: Client, admin: User) -> None:
    for query in ("channel=pigeon", "status=lost", "limit=0", "user_id=abc", "extra=1"):
        response = await client.get(f"/api/v1/admin/notifications?{query}", headers=headers(admin))
        assert response.status in (400, 422), query
        assert "code" in (await response.json())["error"]


async def test_static_assets_are_served(client: Client) -> None:
    for name in ("bell.js", "inbox.js", "history.js", "notify.css"):
        response = await client.get(f"/static/notify/{name}")
        assert response.status == 200, name
