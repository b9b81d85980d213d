"""Failed-login throttling: exponential per-account delay with a cap, a per-address budget,
and never a lock-out. The throttle's clock is replaced, so nothing here sleeps."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.accounts import throttle
from plugins.accounts.config import AccountsConfig
from tests.accounts.auth_support import LOGIN, events, services_of
from tests.accounts.conftest import PASSWORD, Client, MakeUser


@pytest.fixture
def accounts_config() -> str:
    return (
        "login_failures_before_delay = 2\n"
        "login_max_delay_seconds = 4\n"
        "login_failures_per_address = 8\n"
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(throttle, "clock", fake)
    return fake


async def _attempt(client: Client, email: str, password: str = "wrong password") -> Any:
    return await client.post(LOGIN, json={"email": email, "password": password})


async def test_delay_grows_exponentially_up_to_the_cap(
    client: Client, make_user: MakeUser, clock: Clock
) -> None:
    user = await make_user()
    assert (await _attempt(client, user.email)).status == 401
    assert (await _attempt(client, user.email)).status == 401
    waits = []
    for _ in range(5):
        throttled = await _attempt(client, user.email)
        assert throttled.status == 429
        body = await throttled.json()
        assert body["error"]["code"] == "too_many_attempts"
        wait = int(throttled.headers["Retry-After"])
        assert body["error"]["details"]["retry_after"] == wait
        waits.append(wait)
        clock.advance(wait)
        assert (await _attempt(client, user.email)).status == 401  # let through, and wrong
    assert waits == [1, 2, 4, 4, 4]  # capped at login_max_delay_seconds


async def test_the_right_password_still_waits_then_works_and_resets(
    client: Client, make_user: MakeUser, clock: Clock
) -> None:
    user = await make_user()
    for _ in range(2):
        await _attempt(client, user.email)
    assert (await _attempt(client, user.email, PASSWORD)).status == 429
    clock.advance(1)
    assert (await _attempt(client, user.email, PASSWORD)).status == 200
    assert (await _attempt(client, user.email)).status == 401  # counter reset: no wait
    assert (await _attempt(client, user.email)).status == 401


async def test_no_lock_out_however_many_failures(
    client: Client, make_user: MakeUser, clock: Clock
) -> None:
    user = await make_user()
    config = services_of(client).section("accounts", AccountsConfig)
    for _ in range(40):  # straight to the cache: an attacker hammering for a while
        await throttle.record_failure(
            services_of(client), config, email=user.email, address="203.0.113.9"
        )
    throttled = await _attempt(client, user.email, PASSWORD)
    assert throttled.status == 429
    assert int(throttled.headers["Retry-After"]) <= 4
    clock.advance(4)
    assert (await _attempt(client, user.email, PASSWORD)).status == 200


async def test_only_one_attempt_per_delay_period_gets_through(
    client: Client, make_user: MakeUser, clock: Clock
) -> None:
    """Concurrent guesses on several processes must not all slip through one opening."""
    user = await make_user()
    services = services_of(client)
    config = services.section("accounts", AccountsConfig)
    for _ in range(3):
        await throttle.record_failure(services, config, email=user.email, address="a")
    clock.advance(2)
    verdicts = [
        await throttle.check(services, config, email=user.email, address="a") for _ in range(3)
    ]
    assert verdicts[0] is None
    assert all(v is not None and v.scope == "account" for v in verdicts[1:])


async def test_per_address_budget(client: Client, make_user: MakeUser, clock: Clock) -> None:
    user = await make_user()
    for number in range(8):  # one failure per account: no account is delayed
        assert (await _attempt(client, f"ghost{number}@example.com")).status == 401
    blocked = await _attempt(client, user.email, PASSWORD)
    assert blocked.status == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    services = services_of(client)
    config = services.section("accounts", AccountsConfig)
    elsewhere = await throttle.check(services, config, email=user.email, address="198.51.100.7")
    assert elsewhere is None  # another address is not affected
    clock.advance(15 * 60)
    assert (await _attempt(client, user.email, PASSWORD)).status == 200


async def test_throttled_attempts_are_audited_and_not_counted(
    client: Client, make_user: MakeUser, clock: Clock
) -> None:
    user = await make_user()
    for _ in range(2):
        await _attempt(client, user.email)
    for _ in range(3):
        assert (await _attempt(client, user.email)).status == 429
    throttled = await events(client, "login.throttled")
    assert len(throttled) == 3
    assert throttled[0].details["scope"] == "account"
    assert len(await events(client, "login.failed")) == 2
    clock.advance(1)  # still the first delay: throttled attempts did not grow it
    assert (await _attempt(client, user.email, PASSWORD)).status == 200


async def test_unknown_accounts_are_throttled_the_same(client: Client, clock: Clock) -> None:
    for _ in range(2):
        assert (await _attempt(client, "ghost@example.com")).status == 401
    assert (await _attempt(client, "ghost@example.com")).status == 429


def test_delay_formula() -> None:
    config = AccountsConfig(login_failures_before_delay=5, login_max_delay_seconds=30)
    assert [throttle.delay_for(n, config) for n in (0, 4, 5, 6, 7, 9, 10, 50)] == [
        0,
        0,
        1,
        2,
        4,
        16,
        30,
        30,
    ]
