"""The plugin's wiring: hooks registered, the [questions] table, the demo bank."""

from __future__ import annotations

from plugins.questions import plugin
from plugins.questions.config import QuestionsConfig
from tests.questions.conftest import Client
from webapp.keys import PLUGINS, SERVICES

EVERY_TYPE = {
    "single_choice",
    "multiple_choice",
    "true_false",
    "numeric",
    "short_answer",
    "essay",
    "coding",
}


async def test_plugin_is_loaded_with_its_hooks(client: Client) -> None:
    record = client.app[PLUGINS].records["questions"]
    assert record.status == "loaded", record.reason
    assert set(record.hooks) >= {
        "invigilator_config_sections",
        "invigilator_migration_dirs",
        "invigilator_routes",
        "invigilator_seed_demo",
    }
    section = client.app[SERVICES].section("questions", QuestionsConfig)
    assert section.max_import_bytes == 5 * 1024 * 1024


async def test_seed_demo_is_idempotent(client: Client, examiner: object) -> None:
    services = client.app[SERVICES]
    first = await plugin.invigilator_seed_demo(services)
    page = await (await client.get("/api/v1/questions?tag=demo&limit=200")).json()
    count = page["total"]
    assert first == [
        f"Question bank: {count} questions ({count} tagged demo, in 'Introduction to Python')."
    ]
    kinds = [item["type"] for item in page["items"]]
    assert set(kinds) == EVERY_TYPE
    assert all(kinds.count(kind) >= 2 for kind in EVERY_TYPE)
    assert {item["difficulty"] for item in page["items"]} == {"easy", "medium", "hard"}
    assert len({item["category_id"] for item in page["items"]}) == 1
    assert all("python" in item["tags"] for item in page["items"])

    second = await plugin.invigilator_seed_demo(services)
    assert second == first
    assert (await (await client.get("/api/v1/questions?tag=demo")).json())["total"] == count
    categories = await (await client.get("/api/v1/question-categories")).json()
    assert [c["name"] for c in categories] == ["Introduction to Python"]
