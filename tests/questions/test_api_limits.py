"""Limits from the ``[questions]`` table of plugins.toml."""

from __future__ import annotations

import pytest

from plugins.questions.config import QuestionsConfig
from tests.questions.conftest import Client
from tests.questions.test_api_questions import create, get
from webapp.keys import SERVICES

pytestmark = pytest.mark.usefixtures("examiner")


@pytest.fixture
def questions_config() -> str:
    return "\n".join(
        [
            "max_page_size = 2",
            "max_import_bytes = 2048",
            "max_import_questions = 2",
            "max_export_questions = 2",
        ]
    )


async def test_page_size_is_capped_by_config(client: Client) -> None:
    for n in range(3):
        await create(client, title=f"Q{n}")
    page = await get(client, "/api/v1/questions?limit=50")
    assert (len(page["items"]), page["limit"], page["total"]) == (2, 2, 3)


async def test_configured_limits_apply(client: Client) -> None:
    assert client.app[SERVICES].section("questions", QuestionsConfig).max_import_bytes == 2048
    big = await client.post("/api/v1/questions/import?format=gift", data=b"/" * 2049)
    assert big.status == 413
    three = "\n\n".join(f"::Q{n}::Question {{T}}" for n in range(3))
    many = await client.post("/api/v1/questions/import?format=gift", data=three.encode())
    assert many.status == 422
    assert "at most 2" in (await many.json())["error"]["message"]


async def test_export_is_capped(client: Client) -> None:
    for n in range(3):
        await create(client, title=f"Q{n}")
    response = await client.get("/api/v1/questions/export?format=gift")
    assert response.status == 422
    assert "Narrow the filters" in (await response.json())["error"]["message"]
    narrowed = await client.get("/api/v1/questions/export?format=gift&q=Q1")
    assert narrowed.status == 200
