"""Every failure comes out as the JSON envelope, or as a friendly page for browsers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aiohttp import web

from webapp.errors import ErrorEnvelope, error_response

from .conftest import Client, ClientFactory, build_app, make_settings

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_error_response_shape() -> None:
    resp = error_response(409, "conflict", "already there", {"id": 3}, request_id="r1")
    assert resp.status == 409
    assert resp.content_type == "application/json"
    envelope = ErrorEnvelope.model_validate_json(resp.body)  # type: ignore[arg-type]
    assert envelope.error.code == "conflict"
    assert envelope.error.details == {"id": 3}
    assert envelope.error.request_id == "r1"


async def test_unknown_api_path_is_envelope_even_for_browsers(client: Client) -> None:
    resp = await client.get("/api/x", headers=BROWSER)
    assert resp.status == 404
    error = (await resp.json())["error"]
    assert error["code"] == "not_found"
    assert error["request_id"] == resp.headers["X-Request-ID"]


async def test_unknown_path_with_json_accept(client: Client) -> None:
    resp = await client.get("/nowhere", headers={"Accept": "application/json"})
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"


async def test_unknown_path_in_browser_gets_page(client: Client) -> None:
    resp = await client.get("/nowhere/<b>", headers=BROWSER)
    assert resp.status == 404
    assert resp.content_type == "text/html"
    html = await resp.text()
    assert "Page not found" in html
    assert 'class="skip-link"' in html  # rendered in the base layout
    assert "<b>" not in html  # the path is escaped
    assert resp.headers["X-Request-ID"] in html
    assert "Content-Security-Policy" in resp.headers


async def test_without_pages_browsers_get_json(make_client: ClientFactory, tmp_path: Path) -> None:
    client = await make_client(app=build_app(make_settings(tmp_path), pages=False))
    resp = await client.get("/nowhere", headers=BROWSER)
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"


async def test_method_not_allowed_keeps_allow_header(client: Client) -> None:
    resp = await client.put("/api/v1/items/1")
    assert resp.status == 405
    assert (await resp.json())["error"]["code"] == "method_not_allowed"
    assert "GET" in resp.headers["Allow"]


async def test_unhandled_exception_hides_traceback(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="invigilator.errors"):
        resp = await client.get("/api/v1/boom", headers={"X-Request-ID": "boom-1"})
    assert resp.status == 500
    text = await resp.text()
    assert "secret-internal-detail" not in text
    assert "Traceback" not in text
    error = (await resp.json())["error"]
    assert error["code"] == "internal_error"
    assert error["request_id"] == "boom-1"
    record = next(r for r in caplog.records if r.name == "invigilator.errors")
    assert record.exc_info is not None
    assert record.path == "/api/v1/boom"  # type: ignore[attr-defined]


async def test_unhandled_exception_in_browser_gets_page_without_details(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    async def explode(request: web.Request) -> web.Response:
        raise RuntimeError("secret-internal-detail")

    app = build_app(make_settings(tmp_path))
    app.router.add_get("/explode", explode)
    client = await make_client(app=app)
    resp = await client.get("/explode", headers=BROWSER)
    assert resp.status == 500
    assert resp.content_type == "text/html"
    html = await resp.text()
    assert "Something went wrong on our side" in html
    assert "secret-internal-detail" not in html
    assert resp.headers["X-Request-ID"] in html


async def test_redirects_pass_through(make_client: ClientFactory, tmp_path: Path) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/")

    app = build_app(make_settings(tmp_path))
    app.router.add_get("/old", moved)
    client = await make_client(app=app)
    resp = await client.get("/old", allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == "/"
    assert "X-Request-ID" in resp.headers
    assert "Content-Security-Policy" in resp.headers
