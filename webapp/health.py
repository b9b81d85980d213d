"""Liveness (``/healthz``), readiness (``/readyz``) and the signed blob download route.

Liveness says the process answers; readiness says every configured backend answers right now,
so a load balancer stops sending candidates to a process whose database is unreachable.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from core import __version__
from core.errors import InvalidInput, InvigilatorError, NotFound
from webapp.keys import PLUGINS, SETTINGS
from webapp.routing import ApiRequest, Endpoint, ErrorSpec, Router

READY_TIMEOUT_S = 3.0


@dataclass
class SchemaState:
    """Whether the schema was found current; once it is, it stays so while the process runs."""

    current: bool = False


SCHEMA_STATE: web.AppKey[SchemaState] = web.AppKey("schema_state", SchemaState)

router = Router(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str = Field(description="Invigilator version")


class BackendState(BaseModel):
    name: str
    ok: bool
    latency_ms: float
    error: str | None = None


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    backends: list[BackendState]
    failed_plugins: list[str] = Field(
        default_factory=list, description="Plugins that did not load (readiness is unaffected)"
    )


@router.get("/healthz", response=Health, rate_limited=False)
async def healthz(req: ApiRequest) -> Health:
    """Liveness: the process is up and its event loop answers."""
    return Health(version=__version__)


async def _check(name: str, ping: object) -> BackendState:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await ping()  # type: ignore[operator]
    except TimeoutError:
        error: str | None = f"no answer within {READY_TIMEOUT_S:.0f} s"
    except InvigilatorError as failure:
        error = failure.message
    except Exception as failure:  # any other failure is still a readiness answer
        error = f"{type(failure).__name__}: {failure}"
    else:
        error = None
    latency = round((time.perf_counter() - started) * 1000, 1)
    return BackendState(name=name, ok=error is None, latency_ms=latency, error=error)


@router.get(
    "/readyz",
    response=Readiness,
    rate_limited=False,
    errors=[ErrorSpec(503, "backend_unavailable", "a backend does not answer")],
)
async def readyz(req: ApiRequest) -> web.Response:
    """Readiness: every configured backend answers and the schema is current."""
    services = req.services
    checks = [_check(b.name, b.ping) for b in services.backends()]
    states = list(await asyncio.gather(*checks))
    states.append(await _schema_state(req.request.app))
    ok = all(state.ok for state in states)
    body = Readiness(
        status="ready" if ok else "unavailable",
        backends=states,
        failed_plugins=[r.name for r in req.request.app[PLUGINS].failed()],
    )
    return web.json_response(body.model_dump(mode="json"), status=200 if ok else 503)


async def _schema_state(app: web.Application) -> BackendState:
    """Cached once current: migrations only move forward while a process runs."""
    state = app[SCHEMA_STATE]
    if state.current:
        return BackendState(name="schema", ok=True, latency_ms=0.0)
    from storage.migrate import pending_async  # noqa: PLC0415  (keeps app import light)
    from webapp.lifecycle import plugin_migration_dirs  # noqa: PLC0415

    started = time.perf_counter()
    try:
        pending = await pending_async(
            app[SETTINGS].effective_database_url, plugin_migration_dirs(app[PLUGINS])
        )
    except Exception as failure:  # a down database is reported by its own check too
        return BackendState(
            name="schema",
            ok=False,
            latency_ms=0.0,
            error=f"{type(failure).__name__}: {failure}".split("\n")[0],
        )
    latency = round((time.perf_counter() - started) * 1000, 1)
    if pending:
        return BackendState(
            name="schema",
            ok=False,
            latency_ms=latency,
            error="schema is behind: run `invigilator migrate`",
        )
    state.current = True
    return BackendState(name="schema", ok=True, latency_ms=latency)


class BlobQuery(BaseModel):
    expires: int = Field(description="Unix time after which the link stops working")
    sig: str = Field(max_length=128, description="Signature issued with the link")


@router.get(
    "/blobs/{key:.+}",
    query=BlobQuery,
    response_media_type="application/octet-stream",
    include_in_schema=True,
    errors=[ErrorSpec(404, "not_found", "unknown blob, or a bad or expired signature")],
)
async def download_blob(req: ApiRequest[BaseModel, BlobQuery]) -> web.StreamResponse:
    """Serve a blob from the local blob store through a signed, expiring link."""
    blobs = req.services.blobs
    verify = getattr(blobs, "verify_url", None)
    open_path = getattr(blobs, "open_path", None)
    key = req.path["key"]
    try:
        valid = verify is not None and verify(key, req.query.expires, req.query.sig)
    except InvalidInput:
        valid = False
    if not valid or open_path is None:
        raise NotFound("no such blob, or the link has expired")
    path: Path = open_path(key)
    info = await blobs.stat(key)
    return web.FileResponse(
        path,
        headers={
            "Content-Type": info.content_type,
            "Cache-Control": "private, max-age=60",
            "Content-Disposition": "inline",
        },
    )


def core_endpoints() -> list[Endpoint]:
    """Endpoints the web app serves itself, before any plugin's."""
    return list(router.endpoints)
