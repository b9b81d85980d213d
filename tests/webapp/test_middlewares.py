"""Request ids, security headers, HTTPS detection and rate limiting through the real stack."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from .conftest import Client, ClientFactory

HTML = {"Accept": "text/html"}


def assert_security_headers(headers: Mapping[str, str]) -> None:
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "img-src 'self' data: blob:" in csp
    assert "media-src 'self' blob:" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=(self)" in headers["Permissions-Policy"]
    assert "microphone=(self)" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/", HTML, 200),
        ("/api/v1/items/1", {}, 200),
        ("/api/v1/nowhere", {}, 404),
        ("/api/v1/boom", {}, 500),
        ("/static/css/app.css", {}, 200),
        ("/metrics", {}, 200),
    ],
)
async def test_security_headers_everywhere(
    client: Client, path: str, headers: dict[str, str], status: int
) -> None:
    resp = await client.get(path, headers=headers)
    assert resp.status == status
    assert_security_headers(resp.headers)
    assert "Strict-Transport-Security" not in resp.headers


async def test_connect_src_allows_same_origin_websockets(client: Client) -> None:
    resp = await client.get("/api/v1/items/1")
    host = f"{client.host}:{client.port}"
    assert f"wss://{host}" in resp.headers["Content-Security-Policy"]


async def test_hsts_only_over_https_from_trusted_proxy(make_client: ClientFactory) -> None:
    client = await make_client(trusted_proxies=["127.0.0.1"])
    plain = await client.get("/api/v1/items/1")
    assert "Strict-Transport-Security" not in plain.headers
    https = await client.get("/api/v1/items/1", headers={"X-Forwarded-Proto": "https"})
    assert https.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_forwarded_proto_ignored_from_untrusted_peer(client: Client) -> None:
    resp = await client.get("/api/v1/items/1", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in resp.headers


async def test_request_id_echoed(client: Client) -> None:
    resp = await client.get("/api/v1/items/1", headers={"X-Request-ID": "abc-DEF_123"})
    assert resp.headers["X-Request-ID"] == "abc-DEF_123"


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 65, "semi;colon", "ünï"])
async def test_request_id_generated_when_missing_or_insane(client: Client, incoming: str) -> None:
    headers = {"X-Request-ID": incoming} if incoming else {}
    resp = await client.get("/api/v1/items/1", headers=headers)
    generated = resp.headers["X-Request-ID"]
    assert generated != incoming
    assert len(generated) == 32
    assert generated.isalnum()


async def test_rate_limit_after_burst(make_client: ClientFactory) -> None:
    client = await make_client(rate_limit_per_minute=60, rate_limit_burst=3)
    statuses = [(await client.get("/api/v1/items/1")).status for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = await client.get("/api/v1/items/1")
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) >= 1
    error = (await limited.json())["error"]
    assert error["code"] == "rate_limited"
    assert_security_headers(limited.headers)
    # Exempt: probes, metrics and endpoints declared rate_limited=False.
    for path in ("/healthz", "/metrics", "/api/v1/unlimited"):
        assert (await client.get(path)).status == 200


async def test_rate_limit_keys_on_forwarded_client_only_behind_trusted_proxy(
    make_client: ClientFactory,
) -> None:
    client = await make_client(
        rate_limit_per_minute=60, rate_limit_burst=1, trusted_proxies=["127.0.0.0/8"]
    )
    first = {"X-Forwarded-For": "203.0.113.5"}
    second = {"X-Forwarded-For": "203.0.113.6"}
    assert (await client.get("/api/v1/items/1", headers=first)).status == 200
    assert (await client.get("/api/v1/items/1", headers=first)).status == 429
    assert (await client.get("/api/v1/items/1", headers=second)).status == 200


async def test_forwarded_for_ignored_from_untrusted_peer(make_client: ClientFactory) -> None:
    client = await make_client(rate_limit_per_minute=60, rate_limit_burst=1)
    assert (await client.get("/", headers={"X-Forwarded-For": "198.51.100.1"})).status == 200
    resp = await client.get("/", headers={"X-Forwarded-For": "198.51.100.2"})
    assert resp.status == 429


async def test_rate_limit_zero_disables(make_client: ClientFactory) -> None:
    client = await make_client(rate_limit_per_minute=0, rate_limit_burst=1)
    statuses = {(await client.get("/api/v1/items/1")).status for _ in range(5)}
    assert statuses == {200}
