"""The support pages' shells and roles, and the help panel's place on the exam page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate

from core.settings import load_settings
from plugins.support import api, pages
from plugins.support.pages import nav_items
from storage.tables.user import User
from tests.exams.conftest import header_authenticate
from tests.exams.support import Client, add_question, add_users, create_exam, fixed, headers, start
from webapp.app import create_app
from webapp.keys import AUTHENTICATE, SERVICES
from webapp.openapi import build_openapi

HTML = {"Accept": "text/html"}


async def page(client: Client, user: User, path: str, expect: int = 200) -> str:
    response = await client.get(path, headers={**HTML, **headers(user)}, allow_redirects=False)
    assert response.status == expect, (path, response.status)
    return await response.text()


def nav(html: str) -> list[str]:
    found = re.search(r'<nav class="site-nav".*?</nav>', html, re.S)
    return re.findall(r'href="([^"]+)"', found.group(0)) if found else []


def test_nav_items_per_role() -> None:
    assert nav_items(frozenset({"candidate"})) == [("Help", "/support")]
    for role in ("proctor", "examiner", "admin"):
        assert nav_items(frozenset({role})) == [("Support", "/support/tickets")]
    assert nav_items(frozenset()) == []


async def test_pages_follow_roles_and_ownership(
    client: Client, sitting: dict[str, Any], candidates: list[User], proctors: list[User]
) -> None:
    owner, other = candidates[0], candidates[1]
    html = await page(client, owner, "/support")
    assert 'id="new-ticket"' in html
    assert "/support" in nav(html)
    assert 'value="proctoring"' in html
    await page(client, owner, "/support/tickets", 403)
    html = await page(client, proctors[0], "/support/tickets")
    assert "Physics" in html
    assert "/support/tickets" in nav(html)
    await page(client, proctors[0], "/support", 403)

    response = await client.post(
        "/api/v1/support/tickets",
        json={"category": "other", "message": "<b>hi</b>", "subject": "<script>x</script>"},
        headers=headers(owner),
    )
    ticket = await response.json()
    html = await page(client, owner, f"/support/tickets/{ticket['id']}")
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>x" not in html
    assert 'data-staff="false"' in html
    assert 'data-staff="true"' in await page(
        client, proctors[0], f"/support/tickets/{ticket['id']}"
    )
    await page(client, other, f"/support/tickets/{ticket['id']}", 404)
    await page(client, owner, "/support/tickets/12345", 404)

    exam_page = await page(client, owner, f"/exams/attempt/{sitting['attempt']['id']}")
    assert 'id="help-dock"' in exam_page
    assert f'data-attempt="{sitting["attempt"]["id"]}"' in exam_page
    assert "support/attempt_help.js" in exam_page


async def test_exam_page_has_no_help_panel_when_support_is_off(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins.toml"
    plugins.write_text('[plugins]\nentry_points = false\ndisabled = ["support"]\n')
    settings = load_settings(
        data_dir=tmp_path / "var",
        plugins_file=plugins,
        rate_limit_per_minute=0,
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )
    app = create_app(settings)
    app[AUTHENTICATE] = header_authenticate
    async with TestClient(TestServer(app)) as client:
        services = client.app[SERVICES]
        (examiner,) = await add_users(services, "examiner", 1)
        (candidate,) = await add_users(services, "candidate", 1)
        question = await add_question(services, "true_false")
        exam = await create_exam(
            client, examiner, sections=[fixed(question)], candidates=[candidate]
        )
        attempt = await start(client, candidate, exam["id"])
        html = await page(client, candidate, f"/exams/attempt/{attempt['id']}")
        assert 'id="exam"' in html
        assert "help-dock" not in html
        assert (
            await client.get("/api/v1/support/tickets", headers=headers(candidate))
        ).status == 404


def test_openapi_document_of_the_support_api_is_valid() -> None:
    document = build_openapi(
        [*api.router.endpoints, *pages.router.endpoints], title="Invigilator", version="0"
    )
    validate(document)
    paths = document["paths"]
    assert set(paths) == {
        "/api/v1/support/tickets",
        "/api/v1/support/tickets/{ticket_id}",
        "/api/v1/support/tickets/{ticket_id}/messages",
        "/api/v1/support/tickets/{ticket_id}/status",
        "/api/v1/support/tickets/{ticket_id}/read",
    }
    create = paths["/api/v1/support/tickets"]["post"]
    assert {"201", "404", "422", "429"} <= set(create["responses"])
