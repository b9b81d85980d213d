"""The exams plugin: exams, randomised papers, timed attempts with autosave, grading, results.

Each concern lives in its own module; this file only wires them to hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel

from core.hookspecs import hookimpl
from core.ports import JobFunction
from core.services import Services
from plugins.exams import (
    attempts,
    attempts_api,
    background,
    candidates_api,
    exams_api,
    grading,
    grading_api,
    pages,
    results_api,
)
from plugins.exams.config import ExamsConfig
from plugins.exams.seed import seed_demo_exam
from webapp.routing import Endpoint

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {"exams": ExamsConfig}


@hookimpl
def invigilator_migration_dirs() -> Iterable[Path]:
    return [HERE / "migrations"]


@hookimpl
def invigilator_routes() -> list[Endpoint]:
    return [
        *exams_api.router.endpoints,
        *candidates_api.router.endpoints,
        *attempts_api.router.endpoints,
        *results_api.router.endpoints,
        *grading_api.router.endpoints,
        *pages.router.endpoints,
    ]


@hookimpl
def invigilator_template_dirs() -> Iterable[Path]:
    return [HERE / "templates"]


@hookimpl
def invigilator_static_dirs() -> Mapping[str, Path]:
    return {"exams": HERE / "static"}


@hookimpl
def invigilator_nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    return pages.nav_items(roles)


@hookimpl
def invigilator_jobs() -> Mapping[str, JobFunction]:
    return {
        attempts.AUTO_SUBMIT_JOB: attempts.auto_submit_job,
        grading.GRADE_JOB: grading.grade_attempt_job,
    }


@hookimpl
async def invigilator_startup(services: Services) -> None:
    await background.start(services)


@hookimpl
async def invigilator_shutdown(services: Services) -> None:
    await background.stop(services)


@hookimpl
async def invigilator_seed_demo(services: Services) -> list[str]:
    return await seed_demo_exam(services)
