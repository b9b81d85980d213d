"""The accounts plugin: sign-in, sessions, tokens, users and roles, the security audit log and
face enrollment. Each concern lives in its own module; this file only wires them to hooks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.hookspecs import hookimpl
from core.services import Services
from plugins.accounts import admin_api, auth_api, enrollment_api, pages, resets
from plugins.accounts.authn import authenticate
from plugins.accounts.config import AccountsConfig
from plugins.accounts.seed import seed_demo_users
from webapp.routing import Endpoint

HERE = Path(__file__).parent


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {"accounts": AccountsConfig}


@hookimpl
def invigilator_migration_dirs() -> Iterable[Path]:
    return [HERE / "migrations"]


@hookimpl
def invigilator_routes() -> list[Endpoint]:
    return [
        *auth_api.router.endpoints,
        *admin_api.router.endpoints,
        *enrollment_api.router.endpoints,
        *pages.router.endpoints,
    ]


@hookimpl
def invigilator_jobs() -> Mapping[str, Any]:
    return {resets.JOB: resets.request_reset_job}


@hookimpl
def invigilator_authenticator() -> Any:
    return authenticate


@hookimpl
def invigilator_template_dirs() -> Iterable[Path]:
    return [HERE / "templates"]


@hookimpl
def invigilator_static_dirs() -> Mapping[str, Path]:
    return {"accounts": HERE / "static"}


@hookimpl(tryfirst=True)  # called first, listed last: Profile and Sign out end the header
def invigilator_nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    return pages.nav_items(roles)


@hookimpl
async def invigilator_startup(services: Services) -> None:
    await auth_api.start_live_sessions(services)
    await enrollment_api.start_retention_task(services)


@hookimpl
async def invigilator_shutdown(services: Services) -> None:
    await enrollment_api.stop_retention_task()
    await auth_api.stop_live_sessions()


@hookimpl
async def invigilator_seed_demo(services: Services) -> list[str]:
    return await seed_demo_users(services)
