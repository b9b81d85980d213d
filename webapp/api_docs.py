"""``GET /openapi.json`` and an interactive Swagger UI at ``GET /docs``, served by this app.

The Swagger UI assets come from the installed ``swagger_ui_bundle`` package and are served under
``/docs/assets/`` so the page loads nothing from other hosts (a self-hosted exam server may have
no internet at all). Its start-up code is a separate same-origin file because the
Content-Security-Policy forbids inline script.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

from webapp.openapi import build_openapi
from webapp.routing import Endpoint

SWAGGER_DIR = Path(swagger_ui_path)
INIT_SCRIPT = Path(__file__).resolve().parent / "static" / "js" / "api-docs.js"
_VERSION = re.search(r"\d+\.\d+\.\d+", SWAGGER_DIR.name)
SWAGGER_VERSION = _VERSION.group(0) if _VERSION else "unknown"  # cache-busts the asset URLs

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · API documentation</title>
  <link rel="icon" href="/docs/assets/favicon-32x32.png?v={v}" type="image/png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css?v={v}">
  <script src="/docs/assets/swagger-ui-bundle.js?v={v}" defer></script>
  <script src="/docs/init.js?v={v}" defer></script>
</head>
<body>
  <main id="swagger-ui" data-spec-url="{spec_url}" aria-label="{title} API documentation"></main>
  <noscript><p>This page needs JavaScript. The raw description is at
    <a href="/openapi.json">/openapi.json</a>.</p></noscript>
</body>
</html>
"""


def _json_response(document: bytes) -> web.Response:
    return web.Response(
        body=document, content_type="application/json", headers={"Cache-Control": "no-cache"}
    )


def add_api_docs(
    app: web.Application,
    get_endpoints: Callable[[], Sequence[Endpoint]],
    *,
    title: str,
    version: str,
    description: str = "",
) -> None:
    """Route ``/openapi.json``, ``/docs`` and its assets; none of them appear in the schema.

    ``get_endpoints`` is called on the first request, not now, so routes that plugins add after
    this call (but before the server starts answering) are still documented.
    """
    cache: dict[str, bytes] = {}

    def document() -> dict[str, Any]:
        return build_openapi(get_endpoints(), title=title, version=version, description=description)

    async def openapi_json(request: web.Request) -> web.Response:
        if "3.1" not in cache:
            cache["3.1"] = json.dumps(document(), ensure_ascii=False).encode()
        return _json_response(cache["3.1"])

    page = _PAGE.format(
        title=html.escape(title), v=html.escape(SWAGGER_VERSION), spec_url="/openapi.json"
    ).encode()

    async def docs_page(request: web.Request) -> web.Response:
        return web.Response(body=page, content_type="text/html", charset="utf-8")

    async def docs_init(request: web.Request) -> web.FileResponse:
        return web.FileResponse(INIT_SCRIPT, headers={"Cache-Control": "no-cache"})

    app.router.add_get("/openapi.json", openapi_json)
    app.router.add_get("/docs", docs_page)
    app.router.add_get("/docs/init.js", docs_init)
    app.router.add_static("/docs/assets/", SWAGGER_DIR)
