"""Webhook URLs that point at the internal network are refused unless allowed."""

from __future__ import annotations

from storage.tables.user import User
from tests.exams.support import Client, headers


async def test_private_and_malformed_urls_are_refused(client: Client, admin: User) -> None:
    for url in ("http://127.0.0.1:9/hook", "http://10.1.2.3/x", "ftp://example.com/x", "nohost"):
        response = await client.post(
            "/api/v1/admin/webhooks",
            json={"url": url, "secret": "a-webhook-secret-0123456789"},
            headers=headers(admin),
        )
        assert response.status == 422, url
        assert (await response.json())["error"]["code"] == "invalid_input"
    listed = await client.get("/api/v1/admin/webhooks", headers=headers(admin))
    assert await listed.json() == []


async def test_short_secret_and_non_admins_are_refused(
    client: Client, admin: User, candidate: User
) -> None:
    response = await client.post(
        "/api/v1/admin/webhooks",
        json={"url": "http://example.com/x", "secret": "short"},
        headers=headers(admin),
    )
    assert response.status == 422
    response = await client.get("/api/v1/admin/webhooks", headers=headers(candidate))
    assert response.status == 403
