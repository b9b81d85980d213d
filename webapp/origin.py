"""The same-origin check for WebSocket handshakes.

Browsers do not apply CORS to WebSockets and send the page's cookies with the handshake, so a
page on another site could listen to a signed-in user's live feed. Browsers always send Origin
on a WebSocket handshake; a request from another origin is refused before the upgrade.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web


def same_origin(request: web.Request, public_url: str) -> bool:
    """True for non-browser clients (no Origin) and for pages of this server."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser
    netloc = urlsplit(origin).netloc.lower()
    return netloc in {request.host.lower(), urlsplit(public_url).netloc.lower()}
