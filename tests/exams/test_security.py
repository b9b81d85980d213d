"""Roles and ownership: candidates see only their own attempts and assigned, published exams,
never a solution; examiner routes are closed to candidates; exam changes are validated."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.services import Services
from storage.tables.user import User
from tests.exams.support import (
    PAYLOADS,
    RIGHT,
    SECRET_EXPLANATION,
    SECRET_FEEDBACK,
    SECRET_HIDDEN,
    Client,
    add_question,
    create_exam,
    fixed,
    headers,
    save,
    start,
    submit,
    view,
)

SECRET_KEYS = {
    "correct",
    "explanation",
    "feedback",
    "hidden",
    "accepted",
    "answer",
    "rubric",
    "tolerance",
}


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


@pytest.fixture
async def every_type(services: Services) -> list[int]:
    return [await add_question(services, kind) for kind in PAYLOADS]


async def test_the_attempt_view_never_shows_a_solution(
    client: Client, examiner: User, candidate: User, every_type: list[int]
) -> None:
    exam = await create_exam(
        client, examiner, sections=[fixed(*every_type)], candidates=[candidate]
    )
    attempt = (await start(client, candidate, exam["id"]))["id"]
    shown = await view(client, candidate, attempt)
    text = json.dumps(shown)
    for secret in (SECRET_EXPLANATION, SECRET_FEEDBACK, SECRET_HIDDEN, "Paris"):
        assert secret not in text
    question_keys = keys_of([item["question"] for item in shown["items"]])
    assert not question_keys & SECRET_KEYS, question_keys & SECRET_KEYS
    assert [o["text"] for o in shown["items"][0]["question"]["options"]] == [
        "Alpha",
        "Beta",
        "Gamma",
        "Delta",
    ]
    assert shown["items"][6]["question"]["samples"] == [{"input": "1 2\n", "output": "3\n"}]


async def test_candidates_see_only_assigned_published_exams(
    client: Client, services: Services, examiner: User, candidates: list[User]
) -> None:
    mine, other, _ = candidates
    question = await add_question(services, "true_false")
    assigned = await create_exam(client, examiner, sections=[fixed(question)], candidates=[mine])
    draft = await create_exam(
        client, examiner, sections=[fixed(question)], candidates=[mine], publish=False
    )
    listed = await (await client.get("/api/v1/my/exams", headers=headers(mine))).json()
    assert [e["id"] for e in listed] == [assigned["id"]]
    assert await (await client.get("/api/v1/my/exams", headers=headers(other))).json() == []
    for exam_id, user in ((assigned["id"], other), (draft["id"], mine), (999, mine)):
        response = await client.post(f"/api/v1/my/exams/{exam_id}/attempts", headers=headers(user))
        assert response.status == 404
    archived = await client.delete(f"/api/v1/exams/{assigned['id']}", headers=headers(examiner))
    assert archived.status == 204
    assert await (await client.get("/api/v1/my/exams", headers=headers(mine))).json() == []


async def test_another_candidates_attempt_is_not_found(
    client: Client, services: Services, examiner: User, candidates: list[User]
) -> None:
    owner, intruder, _ = candidates
    question = await add_question(services, "true_false")
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(question)],
        candidates=[owner, intruder],
        release_policy="immediately",
    )
    attempt = (await start(client, owner, exam["id"]))["id"]
    as_intruder = headers(intruder)
    base = f"/api/v1/attempts/{attempt}"
    assert (await client.get(base, headers=as_intruder)).status == 404
    put = await client.put(
        f"{base}/answers/0", json={"seq": 1, "response": RIGHT["true_false"]}, headers=as_intruder
    )
    assert put.status == 404
    assert (await client.post(f"{base}/submit", headers=as_intruder)).status == 404
    await submit(client, owner, attempt)
    assert (await client.get(f"{base}/result", headers=as_intruder)).status == 404
    assert (await client.get(f"{base}/result", headers=headers(owner))).status == 200
    assert (await client.get("/api/v1/attempts/nope", headers=as_intruder)).status == 404


async def test_roles_guard_each_side(
    client: Client, services: Services, examiner: User, admin: User, candidate: User
) -> None:
    question = await add_question(services, "true_false")
    exam = await create_exam(client, admin, sections=[fixed(question)], candidates=[candidate])
    staff_only = [
        ("GET", "/api/v1/exams"),
        ("GET", f"/api/v1/exams/{exam['id']}"),
        ("GET", f"/api/v1/exams/{exam['id']}/candidates"),
        ("GET", f"/api/v1/exams/{exam['id']}/results"),
        ("POST", f"/api/v1/exams/{exam['id']}/release"),
        ("GET", "/api/v1/grading/queue"),
    ]
    for method, url in staff_only:
        assert (await client.request(method, url, headers=headers(candidate))).status == 403, url
        assert (await client.request(method, url)).status == 401, url
        assert (await client.request(method, url, headers=headers(examiner))).status == 200, url
    attempt = (await start(client, candidate, exam["id"]))["id"]
    assert (
        await client.get(f"/api/v1/attempts/{attempt}", headers=headers(examiner))
    ).status == 403
    assert (await client.get("/api/v1/my/exams", headers=headers(admin))).status == 403


async def test_exam_changes_are_validated(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    question = await add_question(services, "true_false")
    await add_question(services, "true_false", tags=["algebra"])
    as_examiner = headers(examiner)
    short_pool = [{"pool": {"tags": ["algebra"]}, "count": 2}]
    exam = await create_exam(client, examiner, sections=[short_pool], publish=False)
    refused = await client.post(f"/api/v1/exams/{exam['id']}/publish", headers=as_examiner)
    assert (refused.status, (await refused.json())["error"]["code"]) == (409, "not_publishable")

    url = f"/api/v1/exams/{exam['id']}"
    bad_bodies: list[dict[str, Any]] = [
        {"duration_minutes": 0},
        {"navigation": "backwards"},
        {"title": None},
        {"opens_at": "2030-01-02T00:00:00+00:00", "closes_at": "2030-01-01T00:00:00+00:00"},
        {"release_policy": "after_close"},
        {"opens_at": "2030-01-01T00:00:00"},  # no time zone
        {"negative_marking": 2},
        {"unknown": 1},
    ]
    for body in bad_bodies:
        assert (await client.put(url, json=body, headers=as_examiner)).status == 422, body
    bad_rules = [
        {"question_id": 0},
        {"pool": {"tags": ["x"]}, "count": 0},
        {"question_id": 1, "pool": {}},
    ]
    for rule in bad_rules:
        response = await client.put(
            f"{url}/sections", json={"sections": [{"rules": [rule]}]}, headers=as_examiner
        )
        assert response.status == 422, rule

    fixed_sections = {"sections": [{"title": "Only", "rules": fixed(question)}]}
    assert (
        await client.put(f"{url}/sections", json=fixed_sections, headers=as_examiner)
    ).status == 200
    assert (await client.post(f"{url}/publish", headers=as_examiner)).status == 200
    again = await client.put(f"{url}/sections", json=fixed_sections, headers=as_examiner)
    assert (again.status, (await again.json())["error"]["code"]) == (409, "exam_not_draft")

    not_candidates = await client.put(
        f"{url}/candidates",
        json={"candidates": [{"user_id": examiner.id}, {"user_id": 9999}]},
        headers=as_examiner,
    )
    assert not_candidates.status == 422
    assert (await not_candidates.json())["error"]["details"] == {
        "unknown": [9999],
        "not_candidates": [examiner.id],
    }
    twice = await client.put(
        f"{url}/candidates",
        json={"candidates": [{"user_id": candidate.id}, {"user_id": candidate.id}]},
        headers=as_examiner,
    )
    assert twice.status == 422


async def test_answers_to_items_are_never_shown_to_another_attempt(
    client: Client, services: Services, examiner: User, candidates: list[User]
) -> None:
    question = await add_question(services, "short_answer")
    exam = await create_exam(client, examiner, sections=[fixed(question)], candidates=candidates)
    first = (await start(client, candidates[0], exam["id"]))["id"]
    second = (await start(client, candidates[1], exam["id"]))["id"]
    assert (await save(client, candidates[0], first, 0, {"text": "mine"}, seq=1))[0] == 200
    assert (await view(client, candidates[1], second))["items"][0]["answer"] is None
