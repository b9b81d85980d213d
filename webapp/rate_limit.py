"""Per-client token buckets, with memory bounded however many addresses knock.

A bucket holds up to ``burst`` tokens and refills at ``per_minute / 60`` tokens a second; each
request takes one. A bucket idle long enough to be full again carries no information, so it is
dropped, and a hard cap on the number of buckets (least recently used first) keeps a flood of
spoofed or rotating addresses from growing the table without bound.

This limiter is per process. Behind several workers each one limits on its own, which is still a
useful brake on a single runaway client; a shared limit would live in the broker.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from aiohttp import web

from webapp.keys import SETTINGS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """Decides whether a client may make one more request now."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        # After this long without requests a bucket is full again: forgetting it changes nothing.
        self._idle_seconds = self.burst / self.rate if self.rate > 0 else math.inf
        self._last_sweep = clock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, key: str) -> float | None:
        """Take a token for ``key``; None when allowed, else seconds until one is available."""
        if not self.enabled:
            return None
        now = self._clock()
        self._sweep(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=self.burst, updated=now)
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.updated = now
            self._buckets.move_to_end(key)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate

    def _sweep(self, now: float) -> None:
        """Drop buckets idle long enough to be full; runs at most once per idle period."""
        if now - self._last_sweep < min(self._idle_seconds, 60.0):
            return
        self._last_sweep = now
        # Buckets are kept in least-recently-used order, so the stale ones are at the front.
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            if now - bucket.updated < self._idle_seconds:
                break
            del self._buckets[key]


def parse_networks(values: Iterable[str]) -> list[Network]:
    """Trusted proxies as networks; a bare address is a /32 (or /128)."""
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def _in(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: web.Request, trusted: list[Network]) -> str:
    """The address to limit and log: the peer, or the proxy-reported client for trusted peers.

    ``X-Forwarded-For`` is a list each proxy appends to, and anything left of the last trusted hop
    may be forged by the client, so it is read right to left, skipping trusted proxies, and the
    first untrusted address is the client.
    """
    peer = request.remote or "unknown"
    if not trusted or not _in(peer, trusted):
        return peer
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
    hops = [hop.strip() for hop in forwarded.split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _in(hop, trusted):
            return hop if _is_ip(hop) else peer
    return peer


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_trusted_proxy(request: web.Request, trusted: list[Network]) -> bool:
    return bool(trusted) and _in(request.remote or "", trusted)


def request_address(request: web.Request) -> str:
    """The client's address for a request, with the configured trusted proxies resolved.

    Throttling and the audit log must agree on who a client is, and behind a proxy
    ``request.remote`` is the proxy.
    """
    settings = request.config_dict.get(SETTINGS)
    trusted = _trusted(tuple(settings.trusted_proxies)) if settings is not None else []
    return client_address(request, trusted)


@lru_cache(maxsize=8)
def _trusted(values: tuple[str, ...]) -> list[Network]:
    """Parsed once per distinct setting: this runs on every sign-in and audit write."""
    return parse_networks(values)
