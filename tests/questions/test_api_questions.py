"""Question CRUD and versioning through the HTTP API."""

from __future__ import annotations

from typing import Any

import pytest

from storage.tables.user import User
from tests.questions.conftest import Client, single_choice

pytestmark = pytest.mark.usefixtures("examiner")


async def create(client: Client, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/questions", json=single_choice(**overrides))
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def get(client: Client, url: str, status: int = 200) -> Any:
    response = await client.get(url)
    assert response.status == status, await response.text()
    return await response.json()


async def put(client: Client, question_id: int, body: dict[str, Any], status: int = 200) -> Any:
    response = await client.put(f"/api/v1/questions/{question_id}", json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def test_create_returns_version_one_with_normalised_tags(
    client: Client, examiner: User
) -> None:
    created = await create(client)
    assert created["current_version"] == 1
    assert created["content"]["version"] == 1
    assert created["tags"] == ["europe", "geography"]
    assert created["created_by"] == examiner.id
    assert created["content"]["payload"]["options"][0]["correct"] is True
    fetched = await get(client, f"/api/v1/questions/{created['id']}")
    assert fetched == created


async def test_content_edit_writes_version_two_and_keeps_version_one(client: Client) -> None:
    created = await create(client)
    qid = created["id"]
    payload = single_choice()["payload"]
    payload["options"][1]["text"] = "Marseille"
    updated = await put(client, qid, {"title": "Capital city", "payload": payload})
    assert updated["current_version"] == 2
    assert updated["content"]["version"] == 2
    assert updated["content"]["title"] == "Capital city"
    assert updated["content"]["body"] == created["content"]["body"]  # carried over
    assert updated["content"]["id"] != created["content"]["id"]

    old = await get(client, f"/api/v1/questions/{qid}?version=1")
    assert old["content"] == created["content"]  # version 1 unchanged
    versions = await get(client, f"/api/v1/questions/{qid}/versions")
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["payload"]["options"][1]["text"] == "Lyon"
    assert versions[1]["payload"]["options"][1]["text"] == "Marseille"
    await get(client, f"/api/v1/questions/{qid}?version=3", status=404)


async def test_metadata_and_unchanged_content_do_not_bump_the_version(client: Client) -> None:
    created = await create(client)
    qid = created["id"]
    updated = await put(
        client,
        qid,
        {
            "tags": ["History", "history", "europe"],
            "difficulty": "hard",
            "title": created["content"]["title"],  # same content: not a change
            "payload": single_choice()["payload"],
        },
    )
    assert updated["current_version"] == 1
    assert updated["tags"] == ["europe", "history"]
    assert updated["difficulty"] == "hard"
    assert len(await get(client, f"/api/v1/questions/{qid}/versions")) == 1


async def test_base_version_detects_a_concurrent_edit(client: Client) -> None:
    qid = (await create(client))["id"]
    await put(client, qid, {"title": "First edit", "base_version": 1})
    conflict = await put(client, qid, {"title": "Second edit", "base_version": 1}, status=409)
    assert conflict["error"]["details"] == {"current_version": 2}


async def test_payload_type_cannot_change(client: Client) -> None:
    qid = (await create(client))["id"]
    error = await put(client, qid, {"payload": {"type": "true_false", "answer": True}}, 422)
    assert "create a new question" in error["error"]["message"]


async def test_archive_hides_and_restore_shows(client: Client) -> None:
    keep = await create(client, title="Keep")
    gone = await create(client, title="Gone")
    response = await client.delete(f"/api/v1/questions/{gone['id']}")
    assert response.status == 204
    listed = await get(client, "/api/v1/questions")
    assert [q["id"] for q in listed["items"]] == [keep["id"]]
    archived = await get(client, "/api/v1/questions?archived=true")
    assert [q["id"] for q in archived["items"]] == [gone["id"]]
    still_readable = await get(client, f"/api/v1/questions/{gone['id']}")
    assert still_readable["archived"] is True
    await put(client, gone["id"], {"archived": False})
    assert (await get(client, "/api/v1/questions"))["total"] == 2


async def test_missing_question_is_404(client: Client) -> None:
    await get(client, "/api/v1/questions/999", status=404)
    await get(client, "/api/v1/questions/999/versions", status=404)
    await put(client, 999, {"title": "x"}, status=404)
    assert (await client.delete("/api/v1/questions/999")).status == 404


async def test_list_filters_and_pagination(client: Client) -> None:
    a = await create(client, title="Alpha rivers", tags=["geo", "rivers"], difficulty="easy")
    b = await create(client, title="Beta 100%_done", tags=["geo"], difficulty="hard")
    c = await create(
        client,
        type="true_false",
        title="Gamma",
        payload={"type": "true_false", "answer": False},
        tags=["rivers"],
    )

    async def ids(query: str) -> list[int]:
        return [q["id"] for q in (await get(client, f"/api/v1/questions?{query}"))["items"]]

    assert await ids("") == [a["id"], b["id"], c["id"]]
    assert await ids("tag=geo") == [a["id"], b["id"]]
    assert await ids("tag=geo&tag=RIVERS") == [a["id"]]
    assert await ids("difficulty=hard") == [b["id"]]
    assert await ids("type=true_false") == [c["id"]]
    assert await ids("q=ALPHA") == [a["id"]]
    assert await ids("q=100%25_") == [b["id"]]  # % and _ are literal
    assert await ids("q=0%25") == [b["id"]]
    page = await get(client, "/api/v1/questions?limit=2&offset=1")
    assert ([q["id"] for q in page["items"]], page["total"]) == ([b["id"], c["id"]], 3)
    summary = page["items"][1]
    assert (summary["title"], summary["points"], summary["tags"]) == ("Gamma", 2.0, ["rivers"])


async def test_categories(client: Client) -> None:
    response = await client.post("/api/v1/question-categories", json={"name": " Python "})
    assert response.status == 201
    parent = await response.json()
    assert parent["name"] == "Python"
    child = await (
        await client.post(
            "/api/v1/question-categories", json={"name": "Basics", "parent_id": parent["id"]}
        )
    ).json()
    duplicate = await client.post("/api/v1/question-categories", json={"name": "Python"})
    assert duplicate.status == 409
    orphan = await client.post("/api/v1/question-categories", json={"name": "X", "parent_id": 999})
    assert orphan.status == 422
    assert await get(client, "/api/v1/question-categories") == [parent, child]

    question = await create(client, category_id=child["id"])
    assert question["category_id"] == child["id"]
    listed = await get(client, f"/api/v1/questions?category_id={child['id']}")
    assert listed["total"] == 1
    moved = await put(client, question["id"], {"category_id": None})
    assert moved["category_id"] is None
    assert moved["current_version"] == 1
    bad = await client.post("/api/v1/questions", json=single_choice(category_id=999))
    assert bad.status == 422
    assert "category 999 does not exist" in (await bad.json())["error"]["message"]
