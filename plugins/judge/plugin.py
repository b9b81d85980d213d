"""The coding judge plugin: picks a backend, runs candidates' code, grades coding items.

Each concern lives in its own module; this file only wires them to hooks. The built-in
backends are registered through ``invigilator_judge_backends`` like anyone else's, so a third
party's backend is chosen by ``[judge] backend`` exactly as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.hookspecs import hookimpl
from core.ports import JobFunction
from core.services import Services
from plugins.judge import api, grade, jobs, pages, registry, sweeper
from plugins.judge.config import JudgeConfig
from webapp.routing import Endpoint

HERE = Path(__file__).parent


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {"judge": JudgeConfig}


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
    return {"judge": HERE / "static"}


@hookimpl
def invigilator_jobs() -> Mapping[str, JobFunction]:
    return {jobs.RUN_JOB: jobs.run_job}


@hookimpl
def invigilator_judge_backends() -> Mapping[str, Any]:
    return dict(registry.BUILTIN)


@hookimpl
async def invigilator_grade_code(
    services: Services,
    payload: Mapping[str, Any],
    response: Mapping[str, Any],
    attempt_id: str,
    item: int,
) -> float | None:
    return await grade.grade_code(services, payload, response, attempt_id, item)


@hookimpl
async def invigilator_startup(services: Services) -> None:
    sweeper.start(services)


@hookimpl
async def invigilator_shutdown(services: Services) -> None:
    await sweeper.stop(services)
    await registry.close(services)
