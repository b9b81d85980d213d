"""One contract for cache and pub/sub: in-process (embedded) and Redis (production)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.errors import InvalidInput, Unavailable
from core.ports import Bus, Cache
from core.settings import Settings
from storage.backends import open_broker
from storage.broker.arq_jobs import ArqJobQueue
from storage.broker.memory import MemoryBus, MemoryCache, MemoryJobQueue
from storage.broker.redis import RedisBus, RedisCache

CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture(params=["embedded", "production"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Cache, Bus]]:
    if request.param == "embedded":
        cache: Cache = MemoryCache()
        bus: Bus = MemoryBus()
    else:
        url: str = request.getfixturevalue("redis_url")
        prefix = f"test-{uuid.uuid4().hex[:8]}:"  # isolates tests sharing the database
        cache, bus = RedisCache(url, prefix=prefix), RedisBus(url, prefix=prefix)
    yield cache, bus
    await cache.close()
    await bus.close()


@pytest.fixture
def cache(broker: tuple[Cache, Bus]) -> Cache:
    return broker[0]


@pytest.fixture
def bus(broker: tuple[Cache, Bus]) -> Bus:
    return broker[1]


async def test_get_set_delete(cache: Cache) -> None:
    assert await cache.get("k") is None
    await cache.set("k", b"\x00value")
    assert await cache.get("k") == b"\x00value"
    await cache.set("k", b"other")
    assert await cache.get("k") == b"other"
    await cache.delete("k")
    await cache.delete("k")
    assert await cache.get("k") is None


async def test_ttl_expires(cache: Cache) -> None:
    await cache.set("short", b"1", ttl=0.2)
    await cache.set("long", b"2", ttl=30)
    await cache.set("forever", b"3")
    assert await cache.get("short") == b"1"
    await asyncio.sleep(0.35)
    assert await cache.get("short") is None
    assert await cache.get("long") == b"2"
    assert await cache.get("forever") == b"3"


async def test_set_without_ttl_clears_an_old_ttl(cache: Cache) -> None:
    await cache.set("k", b"1", ttl=0.2)
    await cache.set("k", b"2")
    await asyncio.sleep(0.35)
    assert await cache.get("k") == b"2"


async def test_incr(cache: Cache) -> None:
    assert await cache.incr("n") == 1
    assert await cache.incr("n", 5) == 6
    assert await cache.incr("n", -2) == 4
    assert await cache.get("n") == b"4"
    await cache.set("text", b"abc")
    with pytest.raises(InvalidInput):
        await cache.incr("text")


async def test_incr_ttl_is_set_when_the_counter_is_created(cache: Cache) -> None:
    assert await cache.incr("window", ttl=0.3) == 1
    await asyncio.sleep(0.15)
    assert await cache.incr("window", ttl=30) == 2  # does not extend the window
    await asyncio.sleep(0.3)
    assert await cache.get("window") is None
    assert await cache.incr("window", ttl=30) == 1


async def test_incr_is_atomic_under_concurrency(cache: Cache) -> None:
    results = await asyncio.gather(*(cache.incr("hits", ttl=60) for _ in range(50)))
    assert sorted(results) == list(range(1, 51))
    assert await cache.get("hits") == b"50"


async def next_message(iterator: AsyncIterator[bytes], timeout: float = 2.0) -> bytes:
    return await asyncio.wait_for(anext(iterator), timeout)


async def test_publish_reaches_every_subscriber_in_order(bus: Bus) -> None:
    async with bus.subscribe("alerts") as first, bus.subscribe("alerts") as second:
        await bus.publish("other-channel", b"not for us")
        for n in range(3):
            await bus.publish("alerts", f"m{n}".encode())
        for subscription in (first, second):
            assert [await next_message(subscription) for _ in range(3)] == [b"m0", b"m1", b"m2"]


async def test_only_messages_after_subscribing_arrive(bus: Bus) -> None:
    await bus.publish("ch", b"too early")
    async with bus.subscribe("ch") as subscription:
        await bus.publish("ch", b"in time")
        assert await next_message(subscription) == b"in time"


async def test_no_delivery_after_unsubscribe(bus: Bus) -> None:
    async with bus.subscribe("ch") as stays:
        async with bus.subscribe("ch") as leaves:
            await bus.publish("ch", b"both")
            assert await next_message(leaves) == b"both"
        await bus.publish("ch", b"only stays")
        assert await next_message(stays) == b"both"
        assert await next_message(stays) == b"only stays"
    # Iterating a subscription whose context has ended yields nothing more.
    assert [message async for message in leaves] == []


async def test_close_ends_subscriptions(bus: Bus) -> None:
    async with bus.subscribe("ch") as subscription:
        reader = asyncio.create_task(anext(subscription, b"ended"))
        await asyncio.sleep(0.05)
        await bus.close()
        assert await asyncio.wait_for(reader, 3) == b"ended"


async def test_ping_and_close_twice(cache: Cache, bus: Bus) -> None:
    await cache.ping()
    await bus.ping()
    await cache.close()
    await cache.close()
    await bus.close()
    await bus.close()


async def test_memory_bus_drops_oldest_for_slow_subscribers() -> None:
    bus = MemoryBus(queue_size=3)
    async with bus.subscribe("ch") as subscription:
        for n in range(5):
            await bus.publish("ch", str(n).encode())
        assert [await next_message(subscription) for _ in range(3)] == [b"2", b"3", b"4"]
        assert getattr(subscription, "dropped", None) == 2


async def test_memory_adapters_are_unavailable_after_close() -> None:
    cache, bus = MemoryCache(), MemoryBus()
    await cache.close()
    await bus.close()
    with pytest.raises(Unavailable):
        await cache.ping()
    with pytest.raises(Unavailable):
        await bus.ping()


async def test_redis_on_closed_port_is_unavailable() -> None:
    cache, bus = RedisCache(CLOSED_PORT), RedisBus(CLOSED_PORT)
    try:
        with pytest.raises(Unavailable, match="unreachable"):
            await cache.ping()
        with pytest.raises(Unavailable, match="unreachable"):
            await bus.ping()
        with pytest.raises(Unavailable):
            await cache.get("k")
        with pytest.raises(Unavailable):
            async with bus.subscribe("ch"):
                pass
    finally:
        await cache.close()
        await bus.close()


async def test_open_broker_picks_adapters_by_scheme(tmp_path: Path) -> None:
    memory = await open_broker(Settings(env="test", data_dir=tmp_path), {})
    redis = await open_broker(Settings(env="test", data_dir=tmp_path, broker_url=CLOSED_PORT), {})
    try:
        assert [type(a) for a in memory] == [MemoryCache, MemoryBus, MemoryJobQueue]
        assert [type(a) for a in redis] == [RedisCache, RedisBus, ArqJobQueue]
        assert [a.name for a in (*memory, *redis)] == ["cache", "bus", "jobs"] * 2
    finally:
        for adapter in (*memory, *redis):
            await adapter.close()
