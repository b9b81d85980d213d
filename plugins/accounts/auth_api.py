"""Placeholder: being built."""

from webapp.routing import Router

router = Router()


async def start_live_sessions(services: object) -> None:
    return None


async def stop_live_sessions() -> None:
    return None
