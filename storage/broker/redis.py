"""Redis adapters for production: cache and pub/sub bus (jobs: :mod:`storage.broker.arq_jobs`).

Every adapter connects lazily, so a process starts even while Redis is down and ``/readyz`` can
say so (``ping`` raises Unavailable with the reason). Keys and channels carry a prefix so several
deployments, or test runs, can share one Redis database; arq's own keys live under its queue name.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.errors import InvalidInput, Unavailable

T = TypeVar("T")

DEFAULT_PREFIX = "invigilator:"
CONNECT_TIMEOUT = 5.0
# A subscriber wakes this often while idle to notice that the bus was closed.
IDLE_WAKEUP = 1.0


def redis_pool(url: str, *, command_timeout: float | None) -> ConnectionPool:
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise InvalidInput(f"broker URL must start with redis://, got {url!r}")
    return ConnectionPool.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=command_timeout
    )


async def guard(what: str, call: Awaitable[T]) -> T:
    """Await a Redis call, turning connection trouble into Unavailable with a readable reason."""
    try:
        return await call
    except TimeoutError:
        raise  # the caller's own deadline (an OSError subclass), not a connection problem
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        raise Unavailable(f"{what}: Redis unreachable: {error}") from error
    except ResponseError as error:
        raise InvalidInput(f"{what}: {error}") from error


def _ms(ttl: float) -> int:
    return max(1, round(ttl * 1000))


class RedisCache:
    name = "cache"

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._redis = Redis(connection_pool=redis_pool(url, command_timeout=CONNECT_TIMEOUT))
        self.prefix = prefix + "cache:"
        self._closed = False

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await guard("cache", self._redis.get(self.prefix + key))
        return value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        px = None if ttl is None else _ms(ttl)
        await guard("cache", self._redis.set(self.prefix + key, bytes(value), px=px))

    async def delete(self, key: str) -> None:
        await guard("cache", self._redis.delete(self.prefix + key))

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        name = self.prefix + key
        if ttl is None:
            return int(await guard("cache", self._redis.incrby(name, amount)))
        # SET NX creates the counter with its expiry; INCRBY then adds. MULTI makes the pair
        # atomic, so a counter never exists without its TTL.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, nx=True, px=_ms(ttl))
            pipe.incrby(name, amount)
            results: list[Any] = await guard("cache", pipe.execute())
        return int(results[1])

    async def ping(self) -> None:
        await guard("cache", self._redis.ping())

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._redis.aclose(close_connection_pool=True)


class _RedisSubscription:
    def __init__(self, bus: RedisBus, pubsub: Any) -> None:
        self._bus = bus
        self._pubsub = pubsub
        self.active = True  # False once the subscribe context has exited

    def __aiter__(self) -> _RedisSubscription:
        return self

    async def __anext__(self) -> bytes:
        while self.active and not self._bus.closed:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=IDLE_WAKEUP
                )
            except (RedisError, OSError) as error:
                if self._bus.closed or not self.active:
                    break
                raise Unavailable(f"bus: Redis subscription lost: {error}") from error
            if message is not None and message["type"] == "message":
                data: bytes = message["data"]
                return data
        raise StopAsyncIteration


class RedisBus:
    """Redis pub/sub. Each subscription holds one connection for as long as it is open."""

    name = "bus"

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX) -> None:
        # No command timeout: a subscriber's read waits for as long as the channel is quiet.
        self._redis = Redis(connection_pool=redis_pool(url, command_timeout=None))
        self.prefix = prefix + "bus:"
        self.closed = False

    async def publish(self, channel: str, message: bytes) -> None:
        await guard("bus", self._redis.publish(self.prefix + channel, bytes(message)))

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        if self.closed:
            raise Unavailable("bus: closed")
        pubsub = self._redis.pubsub()
        subscription: _RedisSubscription | None = None
        try:
            await guard("bus", pubsub.subscribe(self.prefix + channel))
            # Wait for Redis to confirm, so messages published once the context is entered are
            # guaranteed to arrive.
            while True:
                reply = await guard("bus", pubsub.get_message(timeout=CONNECT_TIMEOUT))
                if reply is None:
                    raise Unavailable("bus: Redis did not confirm the subscription")
                if reply["type"] == "subscribe":
                    break
            subscription = _RedisSubscription(self, pubsub)
            yield subscription
        finally:
            if subscription is not None:
                subscription.active = False
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def ping(self) -> None:
        await guard("bus", self._redis.ping())

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self._redis.aclose(close_connection_pool=True)
