"""Typed keys for what the aiohttp application holds (``app[SERVICES]``), and the principal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from core.plugin_manager import InvigilatorPluginManager
from core.services import Services
from core.settings import Settings


@dataclass(frozen=True)
class Principal:
    """Who is calling: filled by the authenticator (the accounts plugin), None when anonymous."""

    user_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    session_id: str | None = None


Authenticator = Callable[[web.Request], Awaitable[Principal | None]]
NavProvider = Callable[[frozenset[str]], list[tuple[str, str]]]

SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
PLUGINS: web.AppKey[InvigilatorPluginManager] = web.AppKey("plugins", InvigilatorPluginManager)
AUTHENTICATE: web.AppKey[Authenticator] = web.AppKey("authenticate")
NAV_ITEMS: web.AppKey[NavProvider] = web.AppKey("nav_items")
PRINCIPAL: web.RequestKey[Principal | None] = web.RequestKey("principal")
