"""/openapi.json and /docs are served by the app itself, from the same origin."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from .conftest import Client


async def test_openapi_json_served_and_cached(client: Client) -> None:
    first = await client.get("/openapi.json")
    assert first.status == 200
    doc = await first.json()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "Test API"
    assert "/api/v1/items/{item_id}" in doc["paths"]
    # The documentation routes themselves are not in the schema.
    assert not any(path.startswith(("/docs", "/openapi", "/metrics")) for path in doc["paths"])
    second = await client.get("/openapi.json")
    assert await second.read() == await first.read()


async def test_docs_page_loads_only_same_origin_assets(client: Client) -> None:
    resp = await client.get("/docs")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    html = await resp.text()
    assert "<script>" not in html  # no inline script: the CSP would block it
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    for url in urls:
        assert url.startswith("/"), url
        asset = await client.get(url)
        assert asset.status == 200, url
    assert any("swagger-ui-bundle.js" in url for url in urls)
    assert "/docs/init.js" in html


async def test_docs_points_swagger_at_a_document_it_can_read(client: Client) -> None:
    html = await (await client.get("/docs")).text()
    spec_url = re.search(r'data-spec-url="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    doc = await (await client.get(spec_url)).json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"  # Swagger UI 5 reads 3.1 natively


async def test_docs_assets_are_cacheable(client: Client) -> None:
    html = await (await client.get("/docs")).text()
    css = re.search(r'href="(/docs/assets/swagger-ui.css[^"]*)"', html).group(1)  # type: ignore[union-attr]
    resp = await client.get(css)
    assert "immutable" in resp.headers["Cache-Control"]
