"""Failed-login throttling that slows guessing down without ever locking an account.

A lock-out after N failures would let anyone who knows a candidate's email keep them out of an
exam; so each account only gets an exponentially growing wait, capped at
``login_max_delay_seconds``. Spreading guesses over many accounts is limited per address.

All state is in the shared cache (counters with TTLs), so every server process, and every
Redis-backed deployment, sees the same counts. Keys hold a hash of the email, never the email.
Times are read from :data:`clock` so tests can move it; TTLs only bound how long keys live.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.services import Services
from plugins.accounts.config import AccountsConfig

WINDOW_SECONDS = 15 * 60
MAX_EXPONENT = 16  # 2**16 s is far above any cap; keeps the arithmetic small

clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Throttled:
    """An attempt refused for now: wait ``retry_after`` seconds. ``scope``: account | address."""

    retry_after: int
    scope: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _account_key(email: str) -> str:
    return f"accounts:throttle:account:{_digest(email)}"


def _address_key(address: str) -> str:
    return f"accounts:throttle:address:{_digest(address)}"


def delay_for(failures: int, config: AccountsConfig) -> int:
    """Seconds an account must wait before its next attempt after ``failures`` failures."""
    over = failures - config.login_failures_before_delay
    if over < 0:
        return 0
    return int(min(config.login_max_delay_seconds, 2 ** min(over, MAX_EXPONENT)))


async def _number(services: Services, key: str) -> float:
    raw = await services.cache.get(key)
    try:
        return float(raw) if raw is not None else 0.0
    except ValueError:
        return 0.0


async def check(
    services: Services, config: AccountsConfig, *, email: str, address: str
) -> Throttled | None:
    """Whether an attempt for ``email`` from ``address`` may go ahead now.

    Once an account is being delayed, only one attempt per delay period is let through, even
    when many arrive at once on different processes: the first to increment the period's claim
    counter wins. A claimant that dies without recording its outcome costs one period, not the
    account.
    """
    now = clock()
    address_key = _address_key(address)
    if await _number(services, address_key) >= config.login_failures_per_address:
        window_ends = (await _number(services, f"{address_key}:start") or now) + WINDOW_SECONDS
        if window_ends > now:
            return Throttled(max(1, math.ceil(window_ends - now)), "address")
    account_key = _account_key(email)
    failures = int(await _number(services, account_key))
    delay = delay_for(failures, config)
    if delay == 0:
        return None
    last = await _number(services, f"{account_key}:last")
    waited = now - last
    if waited < delay:
        return Throttled(max(1, math.ceil(delay - waited)), "account")
    period = int((waited - delay) // delay)
    claim_key = f"{account_key}:claim:{failures}:{last!r}:{period}"
    if await services.cache.incr(claim_key, ttl=WINDOW_SECONDS) > 1:
        return Throttled(max(1, math.ceil(delay - (waited - delay) % delay)), "account")
    return None


async def record_failure(
    services: Services, config: AccountsConfig, *, email: str, address: str
) -> int:
    """Count a failed attempt against the account and the address; returns account failures."""
    now = clock()
    address_key, start_key = _address_key(address), f"{_address_key(address)}:start"
    started = await _number(services, start_key)
    if started and started + WINDOW_SECONDS <= now:  # the window is over (TTLs may lag)
        await services.cache.delete(address_key)
    if await services.cache.incr(address_key, ttl=WINDOW_SECONDS) == 1:
        await services.cache.set(start_key, repr(now).encode(), ttl=WINDOW_SECONDS)
    account_key = _account_key(email)
    failures = await services.cache.incr(account_key, ttl=WINDOW_SECONDS)
    await services.cache.set(f"{account_key}:last", repr(now).encode(), ttl=WINDOW_SECONDS)
    return failures


async def record_success(services: Services, *, email: str) -> None:
    """Forget the account's failures. The address counter stays: one valid account must not
    let an address reset its budget for guessing others."""
    account_key = _account_key(email)
    await services.cache.delete(account_key)
    await services.cache.delete(f"{account_key}:last")
