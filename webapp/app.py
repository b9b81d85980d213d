"""The composition root: ``create_app(settings)`` builds the whole aiohttp application.

It reads ``plugins.toml``, builds the plugin manager, collects every plugin's endpoints, jobs,
templates and static folders, and opens the backends in a ``cleanup_ctx`` so that the same
factory serves ``invigilator serve``, the tests and any ASGI-less deployment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from aiohttp import web

from core import __version__
from core.errors import ConfigError
from core.plugin_config import read_plugins_file
from core.plugin_manager import InvigilatorPluginManager, build_plugin_manager
from core.policy import Rule, register_rules
from core.settings import Settings
from webapp.api_docs import add_api_docs
from webapp.binding import add_endpoints
from webapp.health import SCHEMA_STATE, SchemaState, core_endpoints
from webapp.keys import AUTHENTICATE, NAV_ITEMS, PLUGINS, SETTINGS, Authenticator, Principal
from webapp.lifecycle import services_context
from webapp.metrics import add_metrics
from webapp.middlewares import build_middlewares
from webapp.pages import setup_pages
from webapp.routing import Endpoint

API_TITLE = "Invigilator API"
API_DESCRIPTION = (
    "One document for every route of the server and its plugins: proctoring, exams, question "
    "bank, judge and notifications. Errors always use the JSON error envelope."
)


def load_plugin_manager(settings: Settings) -> InvigilatorPluginManager:
    """Read ``plugins.toml`` and build the manager; raises :class:`ConfigError` when invalid."""
    pm = build_plugin_manager(read_plugins_file(settings.plugins_file))
    register_plugin_rules(pm)
    if settings.strict_plugins and pm.failed():
        reasons = "; ".join(f"{r.name}: {r.reason}" for r in pm.failed())
        raise ConfigError(f"plugins failed to load (strict_plugins is on): {reasons}")
    return pm


def register_plugin_rules(pm: InvigilatorPluginManager) -> None:
    """Plugins' violation rules join the catalogue exam policies are validated against."""
    for impl in pm.hook.invigilator_register_rules.get_hookimpls():
        try:
            register_rules(cast("Iterable[Rule] | None", impl.function()) or ())
        except ValueError as error:
            raise ConfigError(f"plugin {impl.plugin_name}: {error}") from error


def _flatten(results: Iterable[Iterable[Any] | None]) -> list[Any]:
    return [item for result in results for item in result or ()]


def collect_endpoints(pm: InvigilatorPluginManager) -> list[Endpoint]:
    endpoints = core_endpoints()
    for item in _flatten(reversed(pm.hook.invigilator_routes())):
        if not isinstance(item, Endpoint):
            raise ConfigError(f"invigilator_routes returned {type(item).__name__}, not Endpoint")
        endpoints.append(item)
    return endpoints


def chain_authenticators(authenticators: list[Authenticator]) -> Authenticator:
    """Try each plugin's authenticator in registration order; the first principal wins."""

    async def authenticate(request: web.Request) -> Principal | None:
        for authenticator in authenticators:
            principal = await authenticator(request)
            if principal is not None:
                return principal
        return None

    return authenticate


def nav_provider(pm: InvigilatorPluginManager) -> Callable[[frozenset[str]], list[tuple[str, str]]]:
    """Header links for a set of roles, from every plugin's ``invigilator_nav_items``."""

    def items(roles: frozenset[str]) -> list[tuple[str, str]]:
        answers = reversed(pm.hook.invigilator_nav_items(roles=roles))  # registration order
        return [(str(label), str(href)) for label, href in _flatten(answers)]

    return items


def create_app(
    settings: Settings, *, plugin_manager: InvigilatorPluginManager | None = None
) -> web.Application:
    """Build the application. Backends open when the app starts, not here."""
    pm = plugin_manager or load_plugin_manager(settings)
    app = web.Application(
        middlewares=build_middlewares(settings),
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[PLUGINS] = pm
    app[SCHEMA_STATE] = SchemaState()
    authenticators = [a for a in reversed(pm.hook.invigilator_authenticator()) if a is not None]
    if authenticators:
        app[AUTHENTICATE] = chain_authenticators(authenticators)
    app[NAV_ITEMS] = nav_provider(pm)

    endpoints = collect_endpoints(pm)
    add_metrics(app)
    setup_pages(
        app,
        extra_template_dirs=[Path(p) for p in _flatten(pm.hook.invigilator_template_dirs())],
        static_dirs={
            prefix: Path(path)
            for mapping in pm.hook.invigilator_static_dirs()
            for prefix, path in dict(mapping or {}).items()
        },
    )
    add_endpoints(app, endpoints)
    add_api_docs(app, lambda: endpoints, title=API_TITLE, version=__version__)
    app.cleanup_ctx.append(services_context)
    return app
