"""Prometheus metrics: one registry per application, exposed at ``GET /metrics``.

The registry is per app rather than prometheus-client's global one so that tests (and several
apps in one process) never see each other's counters or fail on duplicate registration. Later
components (the pipeline, detectors, the media relay) register their own collectors on
``app[METRICS]``. HTTP metrics are labelled by route template, never by raw path, so an attacker
probing random URLs cannot blow up the number of time series.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

METRICS: web.AppKey[CollectorRegistry] = web.AppKey("metrics", CollectorRegistry)

UNMATCHED_ROUTE = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class HttpMetrics:
    requests: Counter
    duration: Histogram


HTTP_METRICS: web.AppKey[HttpMetrics] = web.AppKey("http_metrics", HttpMetrics)


def add_metrics(app: web.Application) -> CollectorRegistry:
    """Create the app's registry with the HTTP collectors and route ``GET /metrics``."""
    registry = CollectorRegistry(auto_describe=True)
    app[METRICS] = registry
    app[HTTP_METRICS] = HttpMetrics(
        requests=Counter(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=registry,
        ),
        duration=Histogram(
            "http_request_duration_seconds",
            "Time to produce a response (excluding sending a streamed body).",
            ("method", "route"),
            buckets=_BUCKETS,
            registry=registry,
        ),
    )
    app.router.add_get("/metrics", metrics_handler, allow_head=False)
    return registry


def record_request(request: web.Request, route: str, status: int, seconds: float) -> None:
    """Count one answered request; a no-op for apps without metrics."""
    metrics = request.config_dict.get(HTTP_METRICS)
    if metrics is None:
        return
    method = request.method if request.method in _METHODS else "OTHER"
    metrics.requests.labels(method, route, str(status)).inc()
    metrics.duration.labels(method, route).observe(seconds)


async def metrics_handler(request: web.Request) -> web.Response:
    """Prometheus text exposition of this app's registry."""
    body = generate_latest(request.config_dict[METRICS])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
