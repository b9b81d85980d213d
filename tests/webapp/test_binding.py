"""Endpoints declared on a Router, served through the binding and the middleware stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from pydantic import BaseModel

from core.errors import ConfigError
from webapp.binding import add_endpoints
from webapp.routing import ApiRequest, Router

from .conftest import Client, ClientFactory, build_app, make_settings
from .sample_api import ENDPOINTS

EXAMINER = {"X-Test-User": "erin:examiner"}


async def test_path_params_and_response_model(client: Client) -> None:
    resp = await client.get("/api/v1/items/42")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    assert await resp.json() == {"id": 1, "name": "item 42", "status": "draft"}


async def test_query_lists_and_coercion(client: Client) -> None:
    resp = await client.get("/api/v1/items?tag=a&tag=b&limit=2&status=published")
    assert resp.status == 200
    assert await resp.json() == [
        {"id": 0, "name": "a,b", "status": "published"},
        {"id": 1, "name": "a,b", "status": "published"},
    ]


async def test_query_validation_error_lists_fields(client: Client) -> None:
    resp = await client.get("/api/v1/items?limit=0&status=nope")
    assert resp.status == 422
    error = (await resp.json())["error"]
    assert error["code"] == "validation_error"
    locs = {tuple(item["loc"]) for item in error["details"]}
    assert locs == {("query", "limit"), ("query", "status")}
    assert all(set(item) == {"loc", "msg", "type"} for item in error["details"])


async def test_body_validated_and_created(client: Client) -> None:
    resp = await client.post("/api/v1/items", json={"name": "pen", "price": 1.5})
    assert resp.status == 201
    assert (await resp.json())["name"] == "pen"


async def test_body_validation_error_does_not_echo_input(client: Client) -> None:
    resp = await client.post("/api/v1/items", json={"name": "", "price": "secret-value"})
    assert resp.status == 422
    text = await resp.text()
    assert "secret-value" not in text
    details = (await resp.json())["error"]["details"]
    assert {tuple(d["loc"]) for d in details} == {("body", "name"), ("body", "price")}


async def test_invalid_json(client: Client) -> None:
    resp = await client.post(
        "/api/v1/items", data=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["code"] == "invalid_json"
    assert error["details"]["line"] == 1


@pytest.mark.parametrize("payload", [b"", b"NaN", b"\xff\xfe\xfa"])
async def test_empty_or_non_json_values_are_invalid_json(client: Client, payload: bytes) -> None:
    resp = await client.post(
        "/api/v1/items", data=payload, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "invalid_json"


async def test_wrong_content_type(client: Client) -> None:
    resp = await client.post(
        "/api/v1/items",
        data="name=pen",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 415
    assert (await resp.json())["error"]["code"] == "unsupported_media_type"


async def test_vendor_json_content_type_accepted(client: Client) -> None:
    resp = await client.post(
        "/api/v1/items",
        data=b'{"name": "a", "price": 0}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert resp.status == 201


async def test_oversized_body_by_content_length(client: Client) -> None:
    body = b'{"name": "' + b"x" * 2000 + b'", "price": 1}'
    resp = await client.post(
        "/api/v1/items", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "payload_too_large"


async def test_oversized_chunked_body(client: Client) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'", "price": 1}'

    resp = await client.post(
        "/api/v1/items", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "payload_too_large"


async def test_small_chunked_body_is_read(client: Client) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "pen",'
        yield b' "price": 2}'

    resp = await client.post(
        "/api/v1/items", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 201


async def test_endpoint_limit_overrides_global(client: Client) -> None:
    body = {"data": "x" * 3000}  # above the 1 KiB global limit, below the endpoint's 4 KiB
    assert (await client.post("/api/v1/uploads", json=body)).status == 204
    resp = await client.post("/api/v1/uploads", json={"data": "x" * 5000})
    assert resp.status == 413


async def test_roles(client: Client) -> None:
    anonymous = await client.delete("/api/v1/items/3")
    assert anonymous.status == 401
    assert (await anonymous.json())["error"]["code"] == "unauthorized"
    assert "WWW-Authenticate" in anonymous.headers
    wrong_role = await client.delete("/api/v1/items/3", headers={"X-Test-User": "cat:candidate"})
    assert wrong_role.status == 403
    assert (await wrong_role.json())["error"]["details"] == {"required_roles": ["examiner"]}
    allowed = await client.delete("/api/v1/items/3", headers=EXAMINER)
    assert allowed.status == 204
    assert await allowed.read() == b""


async def test_path_regex_is_enforced_by_router(client: Client) -> None:
    resp = await client.delete("/api/v1/items/abc", headers=EXAMINER)
    assert resp.status in (404, 405)


async def test_response_model_strips_undeclared_fields(client: Client) -> None:
    resp = await client.get("/api/v1/items/2/internal", headers={"X-Test-User": "a:admin"})
    assert resp.status == 200
    assert await resp.json() == {"id": 2, "name": "x", "status": "draft"}


async def test_other_result_kinds(client: Client) -> None:
    text = await client.get("/api/v1/text")
    assert text.content_type == "text/plain"
    assert await text.text() == "plain words"
    raw = await client.get("/api/v1/raw")
    assert raw.headers["X-Raw"] == "1"
    data = await (await client.get("/api/v1/dict", headers={"X-Request-ID": "abc"})).json()
    assert data == {"ok": True, "who": "abc"}
    assert (await client.get("/api/v1/hidden")).status == 204


async def test_invigilator_error_becomes_envelope(client: Client) -> None:
    resp = await client.get("/api/v1/items/missing")
    assert resp.status == 404
    error = (await resp.json())["error"]
    assert error["code"] == "not_found"
    assert error["message"] == "item missing does not exist"
    assert error["request_id"] == resp.headers["X-Request-ID"]


async def test_anonymous_without_authenticator(make_client: ClientFactory, tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), authenticate=False)
    client = await make_client(app=app)
    assert (await client.get("/api/v1/items/1")).status == 200
    assert (await client.delete("/api/v1/items/1", headers=EXAMINER)).status == 401


def test_duplicate_route_names_both_handlers() -> None:
    router = Router(prefix="/api/v1/items")

    @router.get("/{other_id}")
    async def shadow(req: ApiRequest[BaseModel, BaseModel]) -> None:
        return None

    app = web.Application()
    with pytest.raises(ConfigError) as info:
        add_endpoints(app, [*ENDPOINTS, *router.endpoints])
    message = str(info.value)
    assert "GET /api/v1/items/{other_id}" in message
    assert "get_item" in message
    assert "shadow" in message
