"""The notifications plugin: email, SMS, in-app and webhooks for domain events, reminders
before exams, and violation alerts to proctors.

Each concern lives in its own module; this file only wires them to hooks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.hookspecs import hookimpl
from core.ports import JobFunction
from core.services import Services
from plugins.notify import (
    admin_api,
    api,
    background,
    delivery,
    dispatch,
    listener,
    live_ws,
    pages,
    reminders,
)
from plugins.notify.config import NotifyConfig
from webapp.routing import Endpoint

HERE = Path(__file__).parent


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {"notify": NotifyConfig}


@hookimpl
def invigilator_migration_dirs() -> Iterable[Path]:
    return [HERE / "migrations"]


@hookimpl
def invigilator_routes() -> list[Endpoint]:
    return [
        *live_ws.router.endpoints,
        *api.router.endpoints,
        *admin_api.router.endpoints,
        *pages.router.endpoints,
    ]


@hookimpl
def invigilator_template_dirs() -> Iterable[Path]:
    return [HERE / "templates"]


@hookimpl
def invigilator_static_dirs() -> Mapping[str, Path]:
    return {"notify": HERE / "static"}


@hookimpl
def invigilator_nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    return pages.nav_items(roles)


@hookimpl
def invigilator_jobs() -> Mapping[str, JobFunction]:
    return {
        dispatch.DELIVER_JOB: delivery.deliver_job,
        reminders.REMINDER_JOB: reminders.reminder_job,
        background.SWEEP_JOB: background.sweep_job,
    }


@hookimpl
async def invigilator_domain_event(services: Services, name: str, data: Mapping[str, Any]) -> None:
    await listener.on_event(services, name, dict(data))


@hookimpl
async def invigilator_startup(services: Services) -> None:
    await background.start(services)


@hookimpl
async def invigilator_shutdown(services: Services) -> None:
    await background.stop(services)
