"""Placeholder: being built."""

from aiohttp import web

from webapp.keys import Principal


async def authenticate(request: web.Request) -> Principal | None:
    return None
