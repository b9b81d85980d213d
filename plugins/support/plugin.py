"""The support plugin: tickets between candidates and exam staff. Wiring only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel

from core.hookspecs import hookimpl
from plugins.support import (
    api,
    pages,
    tables,  # noqa: F401 (the tables join the metadata)
)
from plugins.support.config import SupportConfig
from webapp.routing import Endpoint

HERE = Path(__file__).parent


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {"support": SupportConfig}


@hookimpl
def invigilator_routes() -> list[Endpoint]:
    return [*api.router.endpoints, *pages.router.endpoints]


@hookimpl
def invigilator_nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    return pages.nav_items(roles)


@hookimpl
def invigilator_migration_dirs() -> Iterable[Path]:
    return [HERE / "migrations"]


@hookimpl
def invigilator_template_dirs() -> Iterable[Path]:
    return [HERE / "templates"]


@hookimpl
def invigilator_static_dirs() -> Mapping[str, Path]:
    return {"support": HERE / "static"}
