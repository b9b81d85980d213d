"""The durable outbox: writes made while MongoDB/S3 are down are kept and delivered later."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.errors import InvalidInput, Unavailable
from core.events import Event
from storage.blobs.local import LocalBlobStore
from storage.database import SqlDatabase
from storage.eventlog.mongo import MongoEventLog
from storage.eventlog.sqlite import SqliteEventLog
from storage.migrate import upgrade
from storage.outbox import BLOBS, EVENT_LOG, DurableBlobStore, DurableEventLog, Outbox
from tests.support.services import MONGO_SCRIPT, SERVICES_PYTHON, Server, free_port, port_open


class Outage:
    """Wraps a real adapter; while ``down`` its writes raise Unavailable like a dead server."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in ("append", "put") or not callable(attribute):
            return attribute

        async def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise Unavailable(f"{name}: connection refused")
            return await attribute(*args, **kwargs)

        return guarded


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["embedded", "production"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "embedded":
        return f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    url: str = request.getfixturevalue("mysql_url")
    return url


@pytest.fixture
async def parts(database_url: str, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    await asyncio.to_thread(upgrade, database_url)
    db = SqlDatabase(database_url)
    events = SqliteEventLog(tmp_path / "events.db")
    await events.open()
    blobs = LocalBlobStore(tmp_path / "blobs", b"k" * 32, "http://127.0.0.1:8080")
    await blobs.open()
    events_outage, blobs_outage = Outage(events), Outage(blobs)
    clock = Clock()
    outbox = Outbox(db, events_outage, blobs_outage, clock=clock)  # type: ignore[arg-type]
    yield {
        "outbox": outbox,
        "clock": clock,
        "events": events,
        "blobs": blobs,
        "events_outage": events_outage,
        "blobs_outage": blobs_outage,
        "log": DurableEventLog(events_outage, outbox),  # type: ignore[arg-type]
        "store": DurableBlobStore(blobs_outage, outbox),  # type: ignore[arg-type]
    }
    await events.close()
    await blobs.close()
    await db.close()


def make_events(n: int, attempt: str = "a1") -> list[Event]:
    return [Event(kind="violation.no_face", attempt_id=attempt, data={"n": i}) for i in range(n)]


async def test_events_written_during_an_outage_arrive_later(parts: dict[str, Any]) -> None:
    parts["events_outage"].down = True
    await parts["log"].append(make_events(3))
    assert await parts["outbox"].pending(EVENT_LOG) == 1
    assert await parts["events"].count(attempt_id="a1") == 0

    assert await parts["outbox"].flush() == 0  # still down: nothing delivered, item kept
    assert await parts["outbox"].pending(EVENT_LOG) == 1

    parts["events_outage"].down = False
    parts["clock"].now += timedelta(minutes=10)
    assert await parts["outbox"].flush() == 1
    assert await parts["events"].count(attempt_id="a1") == 3
    assert await parts["outbox"].pending() == 0


async def test_retries_back_off(parts: dict[str, Any]) -> None:
    parts["events_outage"].down = True
    await parts["log"].append(make_events(1))
    await parts["outbox"].flush()  # attempt 1 fails: next try in 2 s
    parts["events_outage"].down = False
    assert await parts["outbox"].flush() == 0  # not due yet
    parts["clock"].now += timedelta(seconds=3)
    assert await parts["outbox"].flush() == 1


async def test_new_writes_queue_behind_waiting_ones(parts: dict[str, Any]) -> None:
    parts["blobs_outage"].down = True
    await parts["store"].put("snapshots/a1/0001.jpg", b"old", "image/jpeg")
    parts["blobs_outage"].down = False
    info = await parts["store"].put("snapshots/a1/0001.jpg", b"new", "image/jpeg")
    assert info.size == 3
    assert await parts["outbox"].pending(BLOBS) == 2  # the newer write did not overtake
    parts["clock"].now += timedelta(minutes=1)
    assert await parts["outbox"].flush() == 2
    assert await parts["blobs"].get("snapshots/a1/0001.jpg") == b"new"
    await parts["store"].put("snapshots/a1/0002.jpg", b"direct", "image/jpeg")
    assert await parts["outbox"].pending() == 0  # backlog cleared: writes go straight through


async def test_large_blob_survives_in_the_outbox(parts: dict[str, Any]) -> None:
    payload = bytes(range(256)) * 1024  # 256 KiB, beyond MySQL's plain BLOB
    parts["blobs_outage"].down = True
    await parts["store"].put("clips/a1/clip.webm", payload, "video/webm")
    parts["blobs_outage"].down = False
    parts["clock"].now += timedelta(minutes=1)
    await parts["outbox"].flush()
    assert await parts["blobs"].get("clips/a1/clip.webm") == payload


async def test_a_bad_key_fails_at_once(parts: dict[str, Any]) -> None:
    parts["blobs_outage"].down = True
    with pytest.raises(InvalidInput):
        await parts["store"].put("../escape", b"x")
    assert await parts["outbox"].pending() == 0


async def test_background_task_delivers(parts: dict[str, Any]) -> None:
    outbox: Outbox = parts["outbox"]
    outbox.clock = lambda: datetime.now(UTC)
    parts["events_outage"].down = True
    await parts["log"].append(make_events(2, attempt="bg"))
    parts["events_outage"].down = False
    outbox.start(interval=0.05)
    try:
        await wait_for(lambda: parts["events"].count(attempt_id="bg"), 2)
    finally:
        await outbox.stop()


async def wait_for(probe: Callable[[], Awaitable[int]], expected: int) -> None:
    for _ in range(100):
        if await probe() == expected:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"expected {expected}, last saw {await probe()}")


async def test_real_mongodb_outage(tmp_path: Path) -> None:
    """MongoDB is not running when events are written; it starts; they arrive."""
    if not SERVICES_PYTHON.exists():
        pytest.skip("the MongoDB wire-protocol server is not installed")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    await asyncio.to_thread(upgrade, database_url)
    db = SqlDatabase(database_url)
    port = free_port()
    mongo = MongoEventLog(f"mongodb://127.0.0.1:{port}/outage?serverSelectionTimeoutMS=300")
    blobs = LocalBlobStore(tmp_path / "blobs", b"k" * 32, "http://127.0.0.1:8080")
    outbox = Outbox(db, mongo, blobs)
    durable = DurableEventLog(mongo, outbox)
    server = None
    try:
        await durable.append(make_events(4, attempt="m1"))
        assert await outbox.pending(EVENT_LOG) == 1
        server = Server(
            "MongoDB wire server",
            [str(SERVICES_PYTHON), str(MONGO_SCRIPT), "--port", str(port)],
            port,
        )
        server.wait_until(port_open)
        later = datetime.now(UTC)
        for _ in range(40):  # the driver rediscovers the server within a few seconds
            later += timedelta(minutes=10)  # always past the backoff
            outbox.clock = lambda when=later: when
            await outbox.flush()
            if await outbox.pending() == 0:
                break
            await asyncio.sleep(0.25)
        assert await outbox.pending() == 0
        assert await mongo.count(attempt_id="m1") == 4
    finally:
        if server is not None:
            server.stop()
        await mongo.close()
        await db.close()


async def test_deleting_a_blob_cancels_its_queued_put(parts: dict[str, Any]) -> None:
    parts["blobs_outage"].down = True
    await parts["store"].put("enrollment/7/face.jpg", b"photo", "image/jpeg")
    parts["blobs_outage"].down = False
    await parts["store"].delete("enrollment/7/face.jpg")
    parts["clock"].now += timedelta(minutes=1)
    await parts["outbox"].flush()
    assert await parts["blobs"].list("enrollment/") == []
