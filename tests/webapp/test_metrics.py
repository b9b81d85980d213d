"""Prometheus metrics per app, labelled by route template."""

from __future__ import annotations

from prometheus_client import Counter

from webapp.metrics import METRICS

from .conftest import Client


def _value(text: str, prefix: str) -> float:
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_count_requests_by_route_template(client: Client) -> None:
    await client.get("/api/v1/items/1")
    await client.get("/api/v1/items/2")
    await client.get("/api/v1/does-not-exist")
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    text = await resp.text()
    line = 'http_requests_total{method="GET",route="/api/v1/items/{item_id}",status="200"}'
    assert _value(text, line) == 2.0
    assert 'route="<unmatched>",status="404"' in text
    assert "/api/v1/does-not-exist" not in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET"' in text


async def test_registry_is_per_app_and_open_to_other_components(client: Client) -> None:
    registry = client.app[METRICS]
    detections = Counter("detector_frames_total", "Frames analysed.", registry=registry)
    detections.inc(3)
    text = await (await client.get("/metrics")).text()
    assert "detector_frames_total 3.0" in text
