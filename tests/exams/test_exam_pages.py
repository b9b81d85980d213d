"""The exams pages: who may open which, the attempt pages only for their own candidate, and
no inline script anywhere (the CSP forbids it)."""

from __future__ import annotations

import re

import pytest

from core.services import Services
from storage.tables.user import User
from tests.exams.support import Client, add_question, create_exam, fixed, headers
from webapp.keys import SERVICES

HTML = {"Accept": "text/html"}
CANDIDATE_PAGES = ["/exams"]
STAFF_PAGES = ["/admin/exams", "/admin/questions", "/admin/grading"]


def assert_no_inline_script(html: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert re.search(r"<script\b[^>]*>\s*[^<\s]", html) is None
    assert re.search(r"\son[a-z]+=", html) is None, "inline event handler"
    assert " style=" not in html


async def start(client: Client, examiner: User, candidates: list[User]) -> tuple[int, str]:
    question = await add_question(_services(client), "true_false")
    exam = await create_exam(client, examiner, sections=[fixed(question)], candidates=candidates)
    response = await client.post(
        f"/api/v1/my/exams/{exam['id']}/attempts", headers=headers(candidates[0])
    )
    assert response.status == 201, await response.text()
    return exam["id"], (await response.json())["id"]


def _services(client: Client) -> Services:
    return client.app[SERVICES]


@pytest.mark.parametrize("path", [*CANDIDATE_PAGES, *STAFF_PAGES])
async def test_anonymous_is_sent_to_sign_in(client: Client, path: str) -> None:
    response = await client.get(path, headers=HTML, allow_redirects=False)
    assert response.status in (302, 303)
    assert response.headers["Location"].startswith("/login")


async def test_candidate_pages(client: Client, candidate: User) -> None:
    response = await client.get("/exams", headers={**HTML, **headers(candidate)})
    assert response.status == 200
    html = await response.text()
    assert "My exams" in html
    assert "/static/exams/my_exams.js" in html
    assert "/static/accounts/session.js" in html
    assert_no_inline_script(html)
    for path in STAFF_PAGES:
        response = await client.get(path, headers={**HTML, **headers(candidate)})
        assert response.status == 403, path


@pytest.mark.parametrize("role", ["examiner", "admin"])
async def test_staff_pages(client: Client, role: str, examiner: User, admin: User) -> None:
    user = examiner if role == "examiner" else admin
    for path in STAFF_PAGES:
        response = await client.get(path, headers={**HTML, **headers(user)})
        assert response.status == 200, path
        html = await response.text()
        assert 'href="/admin/exams"' in html  # nav item
        assert_no_inline_script(html)
    response = await client.get("/exams", headers={**HTML, **headers(user)})
    assert response.status == 403


async def test_exam_admin_page(client: Client, examiner: User) -> None:
    question = await add_question(_services(client), "true_false")
    exam = await create_exam(client, examiner, sections=[fixed(question)], publish=False)
    response = await client.get(f"/admin/exams/{exam['id']}", headers={**HTML, **headers(examiner)})
    assert response.status == 200
    assert_no_inline_script(await response.text())
    missing = await client.get("/admin/exams/99999", headers={**HTML, **headers(examiner)})
    assert missing.status == 404


async def test_attempt_pages_only_for_their_candidate(
    client: Client, examiner: User, candidates: list[User]
) -> None:
    _, attempt_id = await start(client, examiner, candidates)
    own = {**HTML, **headers(candidates[0])}
    response = await client.get(f"/exams/attempt/{attempt_id}", headers=own)
    assert response.status == 200
    html = await response.text()
    assert f'data-attempt="{attempt_id}"' in html
    assert 'role="timer"' in html
    assert "Submit exam" in html
    assert_no_inline_script(html)
    result = await client.get(f"/exams/attempt/{attempt_id}/result", headers=own)
    assert result.status == 200
    assert_no_inline_script(await result.text())

    other = {**HTML, **headers(candidates[1])}
    for path in (f"/exams/attempt/{attempt_id}", f"/exams/attempt/{attempt_id}/result"):
        response = await client.get(path, headers=other)
        assert response.status == 404, path
    response = await client.get(
        f"/exams/attempt/{attempt_id}", headers={**HTML, **headers(examiner)}
    )
    assert response.status == 403


async def test_submitted_attempt_page_goes_to_result(
    client: Client, examiner: User, candidates: list[User]
) -> None:
    _, attempt_id = await start(client, examiner, candidates)
    own = {**HTML, **headers(candidates[0])}
    submitted = await client.post(f"/api/v1/attempts/{attempt_id}/submit", headers=own)
    assert submitted.status == 200
    response = await client.get(f"/exams/attempt/{attempt_id}", headers=own, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/exams/attempt/{attempt_id}/result"
