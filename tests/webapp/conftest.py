"""An app wired the way the real factory wires it, with a stand-in for the opened services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.settings import Settings
from webapp.api_docs import add_api_docs
from webapp.binding import add_endpoints
from webapp.keys import AUTHENTICATE, SERVICES, SETTINGS, Principal
from webapp.metrics import add_metrics
from webapp.middlewares import build_middlewares
from webapp.pages import render, setup_pages
from webapp.routing import Endpoint

from .sample_api import ENDPOINTS

Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[..., Awaitable[Client]]


async def fake_authenticate(request: web.Request) -> Principal | None:
    """``X-Test-User: alice:examiner,proctor`` signs in alice with those roles."""
    header = request.headers.get("X-Test-User")
    if not header:
        return None
    user, _, roles = header.partition(":")
    return Principal(user_id=user, roles=frozenset(r for r in roles.split(",") if r))


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "data_dir": tmp_path,
        "max_body_bytes": 1024,
        "rate_limit_per_minute": 600,
        "rate_limit_burst": 1000,
    }
    values.update(overrides)
    return Settings(**values)


def build_app(
    settings: Settings,
    endpoints: Sequence[Endpoint] = ENDPOINTS,
    *,
    authenticate: bool = True,
    pages: bool = True,
    static_dirs: dict[str, Path] | None = None,
) -> web.Application:
    app = web.Application(
        middlewares=build_middlewares(settings), client_max_size=settings.max_body_bytes
    )
    app[SETTINGS] = settings
    app[SERVICES] = SimpleNamespace(settings=settings)  # type: ignore[misc]
    if authenticate:
        app[AUTHENTICATE] = fake_authenticate
    if pages:
        setup_pages(app, [], static_dirs or {})
        app.router.add_get("/", _home_page)
    add_metrics(app)
    app.router.add_get("/healthz", healthz)
    add_endpoints(app, endpoints)
    add_api_docs(app, lambda: endpoints, title="Test API", version="1.2.3")
    return app


@pytest.fixture
async def make_client(tmp_path: Path) -> AsyncIterator[ClientFactory]:
    """``await make_client(**settings_overrides)`` -> a started test client."""
    clients: list[TestClient[web.Request, web.Application]] = []

    async def factory(
        *, app: web.Application | None = None, **overrides: Any
    ) -> TestClient[web.Request, web.Application]:
        if app is None:
            app = build_app(make_settings(tmp_path, **overrides))
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: ClientFactory) -> TestClient[web.Request, web.Application]:
    return await make_client()


async def _home_page(request: web.Request) -> web.Response:
    """The landing page as the system plugin serves it."""
    return render(request, "home.html", {"title": "Invigilator"})
