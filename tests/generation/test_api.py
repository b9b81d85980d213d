"""The generation API on the real app: a job from pasted material, per-question failures,
roles, bad input, editing, approving exactly once, rejecting, and duplicate flags."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from core.services import Services
from plugins.generation.tables import GenerationJob
from plugins.questions.tables import Question, QuestionTag
from storage.tables.user import User
from tests.exams.support import Client, add_users
from tests.generation.conftest import PASSAGE, as_user, drafts_of, finished_job

JOBS = "/api/v1/generation/jobs"


async def start(client: Client, user: User, **body: Any) -> dict[str, Any]:
    data = {"source_kind": "material", "text": PASSAGE, **body}
    response = await client.post(JOBS, json=data, headers=as_user(user))
    assert response.status == 202, await response.text()
    job: dict[str, Any] = await response.json()
    return job


async def generated(client: Client, user: User, counts: dict[str, int]) -> list[dict[str, Any]]:
    job = await start(client, user, counts=counts)
    await finished_job(client, user, job["id"])
    return await drafts_of(client, user, job["id"])


async def question_count(services: Services) -> int:
    async with services.db.session() as db:
        return int((await db.execute(select(func.count()).select_from(Question))).scalar_one())


async def test_a_job_writes_drafts_and_reports_each_failure(client: Client, examiner: User) -> None:
    counts = {"single_choice": 2, "true_false": 2, "short_answer": 1, "essay": 1, "coding": 1}
    job = await start(client, examiner, counts=counts, difficulty="hard")
    assert (job["status"], job["total"], job["backend"]) == ("queued", 7, "offline")
    assert job["source_hash"] == hashlib.sha256(PASSAGE.encode()).hexdigest()
    done = await finished_job(client, examiner, job["id"])
    assert (done["status"], done["done"], done["failed"]) == ("done", 7, 1)
    assert done["errors"] == [
        {
            "type": "coding",
            "number": 1,
            "message": "the offline generator does not write coding problems; "
            "choose the openai backend",
        }
    ]
    assert done["finished_at"] is not None
    assert done["prompt_tokens"] == 0
    drafts = await drafts_of(client, examiner, job["id"])
    assert [d["type"] for d in drafts] == [
        "single_choice",
        "single_choice",
        "true_false",
        "true_false",
        "short_answer",
        "essay",
    ]
    assert {d["status"] for d in drafts} == {"draft"}
    assert {d["difficulty"] for d in drafts} == {"hard"}
    assert all("generated" in d["tags"] for d in drafts)
    assert {d["reference_status"] for d in drafts} == {"not_applicable"}


async def test_only_examiners_and_admins_may_generate(
    client: Client, services: Services, examiner: User
) -> None:
    drafts = await generated(client, examiner, {"true_false": 1})
    admin = (await add_users(services, "admin", 1))[0]
    assert (await client.get("/api/v1/generation/drafts", headers=as_user(admin))).status == 200
    draft = f"/api/v1/generation/drafts/{drafts[0]['id']}"
    calls = [
        ("POST", JOBS, {"source_kind": "topic", "text": "x", "counts": {"essay": 1}}),
        ("GET", f"{JOBS}/1", None),
        ("GET", "/api/v1/generation/drafts", None),
        ("PUT", draft, {"title": "Mine now"}),
        ("POST", draft + "/approve", {}),
        ("POST", draft + "/reject", None),
    ]
    for role in ("candidate", "proctor"):
        user = (await add_users(services, role, 1, prefix=f"gen-{role}"))[0]
        for method, path, body in calls:
            response = await client.request(method, path, json=body, headers=as_user(user))
            assert response.status == 403, (role, method, path)
    for method, path, body in calls:
        assert (await client.request(method, path, json=body)).status == 401
    page = await client.get("/admin/generate", headers=as_user(user), allow_redirects=False)
    assert page.status == 403
    assert (await drafts_of(client, examiner, drafts[0]["job_id"]))[0]["status"] == "draft"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"counts": {}}, 422, "validation_error"),
        ({"counts": {"numeric": 1}}, 422, "validation_error"),
        ({"counts": {"essay": 51}}, 422, "validation_error"),
        ({"counts": {"essay": -1, "true_false": 2}}, 422, "validation_error"),
        ({"counts": {"essay": 1}, "text": "   "}, 422, "validation_error"),
        ({"counts": {"essay": 1}, "source_kind": "novel"}, 422, "validation_error"),
        ({"counts": {"essay": 1}, "dificulty": "easy"}, 422, "validation_error"),
        ({"counts": {"essay": 30, "true_false": 30}}, 422, "invalid_input"),
    ],
)
async def test_bad_requests_are_refused_with_a_code(
    client: Client,
    services: Services,
    examiner: User,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    data = {"source_kind": "material", "text": PASSAGE, **body}
    response = await client.post(JOBS, json=data, headers=as_user(examiner))
    assert response.status == status
    assert (await response.json())["error"]["code"] == code
    async with services.db.session() as db:
        assert (await db.execute(select(func.count()).select_from(GenerationJob))).scalar_one() == 0


async def test_unknown_job_and_draft_are_404(client: Client, examiner: User) -> None:
    headers = as_user(examiner)
    assert (await client.get(f"{JOBS}/999", headers=headers)).status == 404
    response = await client.put("/api/v1/generation/drafts/999", json={}, headers=headers)
    assert response.status == 404
    response = await client.post("/api/v1/generation/drafts/999/approve", json={}, headers=headers)
    assert response.status == 404


async def test_edit_then_approve_puts_the_question_in_the_bank_exactly_once(
    client: Client, services: Services, examiner: User
) -> None:
    headers = as_user(examiner)
    draft = (await generated(client, examiner, {"single_choice": 1}))[0]
    url = f"/api/v1/generation/drafts/{draft['id']}"
    payload = draft["payload"]
    payload["options"][0]["text"] = "An edited option"
    for option in payload["options"]:
        option["correct"] = option["id"] == "b"
    edit = {
        "title": "Edited title",
        "payload": payload,
        "tags": ["Biology", "biology", "plants"],
        "difficulty": "easy",
    }
    response = await client.put(url, json=edit, headers=headers)
    assert response.status == 200, await response.text()
    edited = await response.json()
    assert (edited["title"], edited["tags"], edited["difficulty"]) == (
        "Edited title",
        ["biology", "plants"],
        "easy",
    )
    category = await client.post(
        "/api/v1/question-categories", json={"name": "Biology"}, headers=headers
    )
    category_id = (await category.json())["id"]
    response = await client.post(
        url + "/approve", json={"category_id": category_id}, headers=headers
    )
    assert response.status == 200, await response.text()
    approved = await response.json()
    assert approved["status"] == "approved"
    assert approved["question_id"]
    bank = await client.get(f"/api/v1/questions/{approved['question_id']}", headers=headers)
    question = await bank.json()
    assert question["content"]["title"] == "Edited title"
    assert question["content"]["payload"]["options"][0]["text"] == "An edited option"
    assert [o["correct"] for o in question["content"]["payload"]["options"]][:2] == [False, True]
    assert (question["category_id"], question["difficulty"]) == (category_id, "easy")
    assert question["tags"] == ["biology", "plants"]
    again = await client.post(url + "/approve", json={}, headers=headers)
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "conflict"
    assert (await client.put(url, json={"title": "Late"}, headers=headers)).status == 409
    assert (await client.post(url + "/reject", headers=headers)).status == 409
    assert await question_count(services) == 1


async def test_two_approvals_at_once_make_one_question(
    client: Client, services: Services, examiner: User
) -> None:
    draft = (await generated(client, examiner, {"true_false": 1}))[0]
    url = f"/api/v1/generation/drafts/{draft['id']}/approve"
    responses = await asyncio.gather(
        *(client.post(url, json={}, headers=as_user(examiner)) for _ in range(4))
    )
    assert sorted(r.status for r in responses) == [200, 409, 409, 409]
    assert await question_count(services) == 1


async def test_a_bad_edit_or_category_changes_nothing(
    client: Client, services: Services, examiner: User
) -> None:
    headers = as_user(examiner)
    draft = (await generated(client, examiner, {"single_choice": 1}))[0]
    url = f"/api/v1/generation/drafts/{draft['id']}"
    two_right = {
        **draft["payload"],
        "options": [{**o, "correct": True} for o in draft["payload"]["options"]],
    }
    for edit in (
        {"payload": two_right},
        {"payload": {"type": "true_false", "answer": True}},
        {"title": ""},
        {"tags": ["bad tag!"]},
        {"status": "approved"},
    ):
        response = await client.put(url, json=edit, headers=headers)
        assert response.status == 422, edit
        assert (await response.json())["error"]["code"] in ("validation_error", "invalid_input")
    response = await client.post(url + "/approve", json={"category_id": 4242}, headers=headers)
    assert response.status == 422
    unchanged = (await drafts_of(client, examiner, draft["job_id"]))[0]
    assert unchanged == draft
    assert await question_count(services) == 0


async def test_rejected_drafts_stay_out_of_the_bank(
    client: Client, services: Services, examiner: User
) -> None:
    headers = as_user(examiner)
    draft = (await generated(client, examiner, {"short_answer": 1}))[0]
    url = f"/api/v1/generation/drafts/{draft['id']}"
    response = await client.post(url + "/reject", headers=headers)
    assert (await response.json())["status"] == "rejected"
    assert (await client.post(url + "/approve", json={}, headers=headers)).status == 409
    listed = await client.get(
        "/api/v1/generation/drafts", params={"status": "rejected"}, headers=headers
    )
    assert [d["id"] for d in (await listed.json())["items"]] == [draft["id"]]
    assert await question_count(services) == 0


async def test_near_duplicates_of_bank_questions_are_flagged(
    client: Client, services: Services, examiner: User
) -> None:
    headers = as_user(examiner)
    first = await generated(client, examiner, {"true_false": 2})
    assert {d["duplicate_of"] for d in first} == {None}
    approve = await client.post(
        f"/api/v1/generation/drafts/{first[0]['id']}/approve", json={}, headers=headers
    )
    question_id = (await approve.json())["question_id"]
    again = await generated(client, examiner, {"true_false": 2})
    assert again[0]["duplicate_of"] == question_id
    assert again[0]["similarity"] >= 0.99
    assert again[1]["duplicate_of"] is None  # a different sentence is not a duplicate
    async with services.db.session() as db:
        tags = (
            await db.execute(
                select(col(QuestionTag.tag)).where(col(QuestionTag.question_id) == question_id)
            )
        ).scalars()
        assert "generated" in list(tags)


async def test_a_job_whose_process_stopped_is_reported_failed(
    client: Client, services: Services, examiner: User
) -> None:
    async with services.db.session() as db:
        job = GenerationJob(
            source_kind="material",
            source_hash="0" * 64,
            source_text=PASSAGE,
            backend="offline",
            counts={"essay": 3},
            status="running",
            total=3,
            done=1,
            heartbeat_at=datetime.now(UTC) - timedelta(minutes=31),
        )
        fresh = GenerationJob(
            source_kind="material",
            source_hash="0" * 64,
            source_text=PASSAGE,
            backend="offline",
            counts={"essay": 3},
            status="running",
            total=3,
            heartbeat_at=datetime.now(UTC) - timedelta(minutes=29),
        )
        db.add_all([job, fresh])
        await db.commit()
        stale_id, fresh_id = job.id, fresh.id
    response = await client.get(f"{JOBS}/{stale_id}", headers=as_user(examiner))
    stale = await response.json()
    assert stale["status"] == "failed"
    assert stale["finished_at"] is not None
    assert stale["errors"][-1]["message"].startswith(
        "the job stopped responding after 1 of 3 questions"
    )
    response = await client.get(f"{JOBS}/{fresh_id}", headers=as_user(examiner))
    assert (await response.json())["status"] == "running"


async def test_the_page_and_its_nav_link_are_for_staff_only(
    client: Client, services: Services, examiner: User
) -> None:
    response = await client.get("/admin/generate", headers=as_user(examiner))
    assert response.status == 200
    html = await response.text()
    assert 'id="generate-form"' in html
    assert '<strong id="backend-name">offline</strong>' in html
    assert 'href="/admin/generate"' in html
    candidate = (await add_users(services, "candidate", 1, prefix="nav"))[0]
    home = await client.get("/", headers=as_user(candidate))
    assert home.status == 200
    assert 'href="/admin/generate"' not in await home.text()
