"""The question bank plugin: versioned questions, categories, grading rules, Moodle XML and
GIFT import/export. Each concern lives in its own module; this file only wires them to hooks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel

from core.hookspecs import hookimpl
from core.services import Services
from plugins.questions import api, transfer_api
from plugins.questions.config import QuestionsConfig
from plugins.questions.seed import seed_demo_bank
from webapp.routing import Endpoint

HERE = Path(__file__).parent


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {"questions": QuestionsConfig}


@hookimpl
def invigilator_migration_dirs() -> Iterable[Path]:
    return [HERE / "migrations"]


@hookimpl
def invigilator_routes() -> list[Endpoint]:
    return [*transfer_api.router.endpoints, *api.router.endpoints]


@hookimpl
async def invigilator_seed_demo(services: Services) -> list[str]:
    return await seed_demo_bank(services)
