"""The question-generation plugin: drafts from a topic, syllabus or study material, checked and
flagged, that an examiner edits and approves into the bank. This file only wires hooks."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel

from core.hookspecs import hookimpl
from core.ports import JobFunction
from core.services import Services
from plugins.generation import api, pages
from plugins.generation.config import GenerationConfig
from plugins.generation.registry import factories
from plugins.generation.runner import GENERATE_JOB, run_job
from webapp.routing import Endpoint

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {"generation": GenerationConfig}


@hookimpl
def invigilator_migration_dirs() -> Iterable[Path]:
    return [HERE / "migrations"]


@hookimpl
def invigilator_routes() -> list[Endpoint]:
    return [*api.router.endpoints, *pages.router.endpoints]


@hookimpl
def invigilator_template_dirs() -> Iterable[Path]:
    return [HERE / "templates"]


@hookimpl
def invigilator_static_dirs() -> Mapping[str, Path]:
    return {"generation": HERE / "static"}


@hookimpl
def invigilator_nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    return pages.nav_items(roles)


@hookimpl
def invigilator_jobs() -> Mapping[str, JobFunction]:
    return {GENERATE_JOB: run_job}


@hookimpl
async def invigilator_startup(services: Services) -> None:
    """Say at boot, not at the first click, when the configured backend does not exist."""
    backend = services.section("generation", GenerationConfig).backend
    available = factories(services)
    if backend not in available:
        log.error(
            "[generation] backend %r is not installed (available: %s); generation is refused",
            backend,
            ", ".join(sorted(available)),
        )
