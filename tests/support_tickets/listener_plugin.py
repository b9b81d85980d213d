"""A domain-event listener for the support tests: it keeps every event it hears, per app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.hookspecs import hookimpl
from core.services import Services

heard: dict[int, list[tuple[str, dict[str, Any]]]] = {}


@hookimpl
async def invigilator_domain_event(services: Services, name: str, data: Mapping[str, Any]) -> None:
    heard.setdefault(id(services), []).append((name, dict(data)))


def events_of(services: Services, prefix: str = "ticket.") -> list[tuple[str, dict[str, Any]]]:
    return [(name, data) for name, data in heard.get(id(services), []) if name.startswith(prefix)]
