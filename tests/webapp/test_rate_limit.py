"""The token bucket on its own: refill, bounded memory, proxy-aware client addresses."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from webapp.rate_limit import TokenBucketLimiter, client_address, parse_networks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(per_minute=60, burst=2, clock=clock)
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is None
    wait = limiter.acquire("a")
    assert wait is not None
    assert 0.9 < wait <= 1.0
    clock.now += 1.0
    assert limiter.acquire("a") is None
    assert limiter.acquire("b") is None  # other clients have their own bucket


def test_idle_buckets_are_evicted() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(per_minute=60, burst=5, clock=clock)
    for n in range(100):
        limiter.acquire(f"10.0.0.{n}")
    assert len(limiter) == 100
    clock.now += 61  # every bucket is full again, so none carries information
    limiter.acquire("fresh")
    assert len(limiter) == 1


def test_hard_cap_drops_least_recently_used() -> None:
    limiter = TokenBucketLimiter(per_minute=60, burst=1, max_clients=3, clock=Clock())
    for key in ("a", "b", "c"):
        limiter.acquire(key)
    limiter.acquire("a")  # refreshes a
    limiter.acquire("d")
    assert len(limiter) == 3
    assert limiter.acquire("a") is not None  # still remembered, still empty
    assert limiter.acquire("b") is None  # forgotten, so it starts full


def test_disabled_when_rate_is_zero() -> None:
    limiter = TokenBucketLimiter(per_minute=0, burst=1)
    assert not limiter.enabled
    assert all(limiter.acquire("a") is None for _ in range(10))


def _request(peer: str, forwarded: str | None = None) -> web.Request:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return make_mocked_request("GET", "/", headers=headers).clone(remote=peer)


def test_client_address_untrusted_peer_ignores_header() -> None:
    assert client_address(_request("192.0.2.1", "1.2.3.4"), []) == "192.0.2.1"
    trusted = parse_networks(["10.0.0.0/8"])
    assert client_address(_request("192.0.2.1", "1.2.3.4"), trusted) == "192.0.2.1"


def test_client_address_walks_right_to_left_past_trusted_hops() -> None:
    trusted = parse_networks(["10.0.0.0/8", "172.16.0.1"])
    request = _request("10.0.0.2", "6.6.6.6, 203.0.113.9, 172.16.0.1")
    assert client_address(request, trusted) == "203.0.113.9"


def test_client_address_garbage_header_falls_back_to_peer() -> None:
    trusted = parse_networks(["10.0.0.0/8"])
    assert client_address(_request("10.0.0.2", "not-an-ip"), trusted) == "10.0.0.2"
    assert client_address(_request("10.0.0.2", "10.0.0.3"), trusted) == "10.0.0.2"
