"""Templates, the shared layout and static files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web

from core.errors import ConfigError
from webapp.pages import TEMPLATES, render, setup_pages

from .conftest import Client, ClientFactory, build_app, make_settings


async def test_home_page_uses_layout(client: Client) -> None:
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    html = await resp.text()
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert "<header" in html
    assert "<footer" in html
    assert 'href="/docs"' in html
    assert 'href="/healthz"' in html
    assert "<script>" not in html
    assert re.search(r'<script type="module" src="/static/js/app\.js\?v=[0-9a-f]{12}">', html)


async def test_static_assets_from_same_origin_with_cache_headers(client: Client) -> None:
    html = await (await client.get("/")).text()
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(urls) >= 3  # css, js, icon
    for url in urls:
        resp = await client.get(url)
        assert resp.status == 200, url
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "ETag" in resp.headers or "Last-Modified" in resp.headers
    plain = await client.get("/static/css/app.css")
    assert plain.headers["Cache-Control"] == "no-cache"
    assert not any("//" in url for url in re.findall(r'(?:src|href)="([^"]+)"', html))


async def test_static_does_not_escape_its_folder(client: Client) -> None:
    for path in ("/static/../pages.py", "/static/%2e%2e/pages.py", "/static/css/../../pages.py"):
        resp = await client.get(path)
        assert resp.status in (403, 404), path


async def test_plugin_templates_static_and_autoescape(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    (templates / "exams").mkdir(parents=True)
    (templates / "exams" / "list.html").write_text(
        '{% extends "base.html" %}{% block content %}<p>{{ name }}</p>'
        '<script type="module" src="{{ static_url("exams/list.js") }}"></script>{% endblock %}'
    )
    static = tmp_path / "static"
    static.mkdir()
    (static / "list.js").write_text("export {};\n")

    async def page(request: web.Request) -> web.Response:
        nav = [{"href": "/exams", "label": "Exams"}, {"href": "/", "label": "Home"}]
        return render(request, "exams/list.html", {"name": "<i>x</i>", "nav_items": nav})

    app = web.Application()
    setup_pages(app, [templates], {"exams": static})
    app.router.add_get("/exams", page)
    client = await make_client(app=app)
    html = await (await client.get("/exams")).text()
    assert "&lt;i&gt;x&lt;/i&gt;" in html
    assert '<a class="site-nav__link" href="/exams" aria-current="page">Exams</a>' in html
    script = re.search(r'src="(/static/exams/list\.js\?v=[0-9a-f]{12})"', html)
    assert script is not None
    assert (await client.get(script.group(1))).status == 200


@pytest.mark.parametrize("prefix", ["css", "Bad Prefix", "../x"])
def test_bad_static_prefix_rejected(prefix: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        setup_pages(web.Application(), [], {prefix: tmp_path})


async def test_asset_version_changes_with_content(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    static = tmp_path / "static"
    static.mkdir()
    asset = static / "a.css"
    asset.write_text("a{}")
    app = build_app(make_settings(tmp_path), static_dirs={"plug": static})
    env = app[TEMPLATES]
    first = env.globals["static_url"]("plug/a.css")  # type: ignore[operator]
    asset.write_text("a{color:red}")
    second = env.globals["static_url"]("plug/a.css")  # type: ignore[operator]
    assert first != second
    assert first.startswith("/static/plug/a.css?v=")
