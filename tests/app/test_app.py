"""create_app end to end: health, readiness, OpenAPI, and every plugin hook's effect."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate

from core.settings import Settings, load_settings
from tests.app.conftest import write_plugins_file
from tests.fixtures.sample_plugin import plugin as sample
from webapp.app import create_app
from webapp.keys import PLUGINS, SERVICES


async def test_healthz(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"


async def test_readyz_checks_every_backend(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 200, body
    names = {backend["name"] for backend in body["backends"]}
    assert {"database", "event_log", "blobs", "cache", "bus", "jobs", "schema"} <= names
    assert all(backend["ok"] for backend in body["backends"])


async def test_readyz_fails_when_a_backend_is_down(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path / "var",
        plugins_file=write_plugins_file(tmp_path),
        event_log_url="mongodb://127.0.0.1:1/events?serverSelectionTimeoutMS=300",
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        response = await client.get("/readyz")
        body = await response.json()
    assert response.status == 503
    down = [b for b in body["backends"] if not b["ok"]]
    assert [b["name"] for b in down] == ["event_log"]
    assert down[0]["error"]


async def test_openapi_covers_core_and_plugin_routes(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/openapi.json")
    assert response.status == 200
    document = await response.json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    assert "/healthz" in paths
    assert "/readyz" in paths
    assert "/api/v1/system/version" in paths
    echo = paths["/api/v1/sample/echo/{name}"]["post"]
    assert echo["requestBody"]["content"]["application/json"]["schema"]
    assert {p["name"] for p in echo["parameters"]} >= {"name", "times"}
    assert "/api/v1/sample/page" not in paths  # pages are not API


async def test_docs_page_is_served_locally(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/docs")
    assert response.status == 200
    html = await response.text()
    assert "swagger" in html.lower()
    assert "https://" not in html
    assert "http://" not in html.replace("http://127.0.0.1", "")


async def test_plugin_route_validates_and_reads_its_section(client: TestClient) -> None:  # type: ignore[type-arg]
    ok = await client.post("/api/v1/sample/echo/ana?times=2", json={"text": "ab"})
    assert ok.status == 200
    assert (await ok.json()) == {"text": "hi ana: abab"}
    bad = await client.post("/api/v1/sample/echo/ana", json={"text": ""})
    assert bad.status == 422
    assert (await bad.json())["error"]["code"] == "validation_error"


async def test_plugin_job_runs_through_the_queue(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/v1/sample/jobs/double", json={"times": 3})
    assert response.status == 200, await response.text()
    assert (await response.json()) == {"value": 6}


async def test_plugin_template_and_static_dirs(client: TestClient) -> None:  # type: ignore[type-arg]
    page = await client.get("/api/v1/sample/page")
    assert page.status == 200
    html = await page.text()
    assert 'id="sample-message"' in html
    assert "Invigilator" in html  # extends the base layout
    css = await client.get("/static/sample/sample.css")
    assert css.status == 200
    assert "--sample" in await css.text()


async def test_startup_and_shutdown_hooks(app_settings: Settings) -> None:
    sample.CALLS.clear()
    app = create_app(app_settings)
    async with TestClient(TestServer(app)):
        assert sample.CALLS == ["startup"]
        assert await app[SERVICES].cache.get("sample:started") == b"yes"
    assert sample.CALLS == ["startup", "shutdown"]


async def test_failed_plugin_is_listed_and_server_still_serves(tmp_path: Path) -> None:
    plugins_file = write_plugins_file(
        tmp_path, modules=("tests.fixtures.broken_plugin", "tests.fixtures.sample_plugin.plugin")
    )
    settings = load_settings(data_dir=tmp_path / "var", plugins_file=plugins_file)
    app = create_app(settings)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/healthz")).status == 200
        ready = await (await client.get("/readyz")).json()
        assert ready["failed_plugins"] == ["tests.fixtures.broken_plugin"]
    assert app[PLUGINS].records["tests.fixtures.broken_plugin"].status == "failed"


async def test_home_page(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/")
    assert response.status == 200
    assert "text/html" in response.headers["Content-Type"]
    assert "Content-Security-Policy" in response.headers


async def test_admin_route_needs_a_login(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/api/v1/system/plugins")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_signed_blob_link_round_trip(client: TestClient) -> None:  # type: ignore[type-arg]
    services = client.app[SERVICES]
    await services.blobs.put("snapshots/a1/0001.jpg", b"\xff\xd8jpeg", "image/jpeg")
    url = await services.blobs.signed_url("snapshots/a1/0001.jpg", timedelta(minutes=5))
    parts = urlsplit(url)
    good = await client.get(f"{parts.path}?{parts.query}")
    assert good.status == 200
    assert await good.read() == b"\xff\xd8jpeg"
    assert good.headers["Content-Type"] == "image/jpeg"
    flipped = "0" if parts.query[-1] != "0" else "1"
    tampered = await client.get(f"{parts.path}?{parts.query[:-1]}{flipped}")
    assert tampered.status == 404
    other = await client.get(f"/blobs/snapshots/a1/0002.jpg?{parts.query}")
    assert other.status == 404


async def test_plugin_authenticator_and_roles(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path / "var",
        plugins_file=write_plugins_file(tmp_path, extra="header_auth = true\n"),
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        anonymous = await client.get("/api/v1/sample/whoami")
        assert anonymous.status == 401
        candidate = await client.get(
            "/api/v1/sample/whoami", headers={"X-Sample-Roles": "candidate"}
        )
        assert candidate.status == 403
        examiner = await client.get(
            "/api/v1/sample/whoami", headers={"X-Sample-Roles": "examiner,proctor"}
        )
        assert examiner.status == 200
        assert (await examiner.json()) == {"text": "sample-user:examiner,proctor"}


async def test_anonymous_browser_is_sent_to_sign_in(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get(
        "/api/v1/system/plugins", headers={"Accept": "text/html"}, allow_redirects=False
    )
    assert response.status == 401  # an /api/ path answers JSON even to a browser
    page = await client.get(
        "/sample/private?x=1", headers={"Accept": "text/html"}, allow_redirects=False
    )
    assert page.status == 303
    assert page.headers["Location"] == "/login?next=%2Fsample%2Fprivate%3Fx%3D1"
    api_client = await client.get("/sample/private", allow_redirects=False)
    assert api_client.status == 401  # a non-browser client gets the JSON envelope


async def test_nav_items_follow_roles(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path / "var",
        plugins_file=write_plugins_file(tmp_path, extra="header_auth = true\n"),
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        anonymous = await (await client.get("/api/v1/sample/page")).text()
        examiner = await (
            await client.get("/api/v1/sample/page", headers={"X-Sample-Roles": "examiner"})
        ).text()
    assert 'href="/api/v1/sample/page"' in anonymous
    assert "Sample reports" not in anonymous
    assert "Sample reports" in examiner


async def test_grade_code_hook_first_answer_wins(client: TestClient) -> None:  # type: ignore[type-arg]
    pm = client.app[PLUGINS]
    payload = {"samples": [{"input": "", "output": "42"}], "languages": ["python"]}
    answer = pm.hook.invigilator_grade_code(
        services=client.app[SERVICES],
        payload=payload,
        response={"code": "print('42')"},
        attempt_id="",
        item=0,
    )
    assert await answer == 1.0
    wrong = pm.hook.invigilator_grade_code(
        services=client.app[SERVICES],
        payload=payload,
        response={"code": "print(41)"},
        attempt_id="",
        item=0,
    )
    assert await wrong == 0.0


async def test_detectors_are_registered_loaded_and_measured(client: TestClient) -> None:  # type: ignore[type-arg]
    """The sample plugin's detector and the built-in face detector reach the live pipeline,
    and the pipeline's collectors appear at /metrics."""
    from plugins.proctoring.plugin import analysis_for  # noqa: PLC0415

    services = client.app[SERVICES]
    assert {d.name for d in services.detectors} >= {"brightness", "face"}
    analysis = analysis_for(services)
    assert analysis is not None
    assert set(analysis.pipeline.detectors) >= {"brightness", "face"}
    # A fresh data folder holds no YOLO weights: the objects detector says how to fetch them.
    assert set(services.detector_failures) <= {"objects"}
    assert all("models pull yolov8n" in why for why in services.detector_failures.values())
    body = await (await client.get("/metrics")).text()
    assert "detector_batch_seconds" in body
