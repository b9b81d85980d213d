"""Placeholder: being built."""

from webapp.routing import Router

router = Router()


def nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    return []
