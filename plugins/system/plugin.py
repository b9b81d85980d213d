"""Home page and system information routes, shipped as an ordinary plugin (as Datasette does)."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from pydantic import BaseModel, Field

from core import __version__
from core.hookspecs import hookimpl
from webapp.keys import PLUGINS
from webapp.pages import render
from webapp.routing import ApiRequest, Endpoint, Router


class SystemConfig(BaseModel):
    """The ``[system]`` table of plugins.toml."""

    site_name: str = Field(
        "Invigilator",
        min_length=1,
        max_length=80,
        description="Name shown in the page header and titles.",
    )
    organisation: str = Field("", max_length=120, description="Shown on the home page.")


class VersionInfo(BaseModel):
    name: str
    version: str


class PluginInfo(BaseModel):
    name: str
    source: str
    status: str
    reason: str | None
    hooks: list[str]


router = Router(prefix="/api/v1/system", tags=["system"])
pages = Router()


@router.get("/version", response=VersionInfo)
async def version(req: ApiRequest) -> VersionInfo:
    """Server name and version."""
    config = req.services.section("system", SystemConfig)
    return VersionInfo(name=config.site_name, version=__version__)


@router.get("/plugins", response=list[PluginInfo], roles={"admin"})
async def list_plugins(req: ApiRequest) -> list[PluginInfo]:
    """Every plugin the server tried to load, with the reason when one failed."""
    pm = req.request.app[PLUGINS]
    return [
        PluginInfo(name=r.name, source=r.source, status=r.status, reason=r.reason, hooks=r.hooks)
        for r in pm.records.values()
    ]


@pages.get("/", include_in_schema=False)
async def home(req: ApiRequest) -> web.Response:
    """The landing page."""
    config = req.services.section("system", SystemConfig)
    return render(
        req.request,
        "home.html",
        {
            "title": config.site_name,
            "product_name": config.site_name,
            "organisation": config.organisation,
            "version": __version__,
        },
    )


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {"system": SystemConfig}


@hookimpl
def invigilator_routes() -> list[Endpoint]:
    return [*router.endpoints, *pages.endpoints]
