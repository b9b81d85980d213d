"""One contract for every event log: SQLite (embedded) and MongoDB (production) must agree."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.errors import InvalidInput, Unavailable
from core.events import Event
from core.ports import EventLog
from core.settings import Settings
from storage.backends import open_event_log
from storage.eventlog.mongo import MongoEventLog
from storage.eventlog.sqlite import SqliteEventLog

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(params=["embedded", "production"])
def event_log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "embedded":
        return f"sqlite:///{tmp_path / 'events.db'}"
    base: str = request.getfixturevalue("mongo_url")
    return f"{base}_{uuid.uuid4().hex[:8]}"  # a fresh database per test


@pytest.fixture
async def log(event_log_url: str, tmp_path: Path) -> AsyncIterator[EventLog]:
    settings = Settings(env="test", data_dir=tmp_path, event_log_url=event_log_url)
    opened = await open_event_log(settings)
    yield opened
    await opened.close()


@pytest.fixture
async def sample(log: EventLog) -> list[Event]:
    """Eight events over two attempts, kinds chosen to trip up naive prefix matching."""
    events = [
        Event(id="e01", ts=at(0), kind="violation.no_face", attempt_id="a1", data={"n": 1}),
        Event(id="e02", ts=at(1), kind="violation.phone", attempt_id="a1", source="vision"),
        Event(id="e03", ts=at(1), kind="telemetry.blur", attempt_id="a1"),  # same ts as e02
        Event(id="e04", ts=at(2), kind="violationXfake", attempt_id="a1"),
        Event(id="e05", ts=at(3), kind="Violation.upper", attempt_id="a2"),
        Event(id="e06", ts=at(4), kind="violation.no_face", attempt_id="a2"),
        Event(id="e07", ts=at(5), kind="proctor.note", attempt_id=None),
        Event(id="e08", ts=at(6), kind="violation.phone", attempt_id="a2"),
    ]
    await log.append(list(reversed(events)))  # insertion order must not matter
    return events


def ids(events: list[Event]) -> list[str]:
    return [event.id for event in events]


async def test_round_trip_keeps_every_field(log: EventLog) -> None:
    event = Event(
        ts=datetime(2024, 5, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2))),
        kind="violation.gaze",
        attempt_id="attempt-7",
        source="plugins.gaze",
        data={"score": 0.75, "nested": {"list": [1, "two", None]}, "flag": True},
    )
    await log.append([event])
    [stored] = await log.query()
    assert stored == event
    assert stored.ts == datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=UTC)
    assert stored.ts.utcoffset() == timedelta(0)


async def test_data_is_stored_in_json_form(log: EventLog) -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    await log.append([Event(kind="k", data={"when": moment, "id": uuid.UUID(int=1)})])
    [stored] = await log.query()
    assert stored.data == {"when": "2024-01-02T03:04:05Z", "id": str(uuid.UUID(int=1))}


async def test_append_is_idempotent_on_id(log: EventLog) -> None:
    first = Event(id="dup", ts=at(0), kind="a", data={"v": 1})
    await log.append([first])
    await log.append(
        [Event(id="dup", ts=at(9), kind="b", data={"v": 2}), Event(id="new", kind="c")]
    )
    await log.append([first, first])
    assert await log.count() == 2
    [kept] = await log.query(kinds=["a", "b"])
    assert kept == first  # the first write wins; a retry never rewrites history


async def test_append_nothing_is_a_no_op(log: EventLog) -> None:
    await log.append([])
    assert await log.query() == []
    assert await log.count() == 0


async def test_default_order_is_ts_then_id(log: EventLog, sample: list[Event]) -> None:
    assert ids(await log.query()) == ids(sample)


async def test_newest_first_reverses_ts_and_id(log: EventLog, sample: list[Event]) -> None:
    assert ids(await log.query(newest_first=True)) == ids(sample)[::-1]


async def test_limit(log: EventLog, sample: list[Event]) -> None:
    assert ids(await log.query(limit=3)) == ["e01", "e02", "e03"]
    assert ids(await log.query(limit=2, newest_first=True)) == ["e08", "e07"]
    assert await log.query(limit=0) == []
    with pytest.raises(InvalidInput):
        await log.query(limit=-1)


async def test_filter_by_attempt(log: EventLog, sample: list[Event]) -> None:
    assert ids(await log.query(attempt_id="a2")) == ["e05", "e06", "e08"]
    assert await log.query(attempt_id="nobody") == []


async def test_filter_by_kinds(log: EventLog, sample: list[Event]) -> None:
    found = await log.query(kinds=["violation.phone", "proctor.note"])
    assert ids(found) == ["e02", "e07", "e08"]
    assert await log.query(kinds=[]) == []
    with pytest.raises(InvalidInput):
        await log.query(kinds="violation.phone")


async def test_kind_prefix_is_literal_and_case_sensitive(
    log: EventLog, sample: list[Event]
) -> None:
    assert ids(await log.query(kind_prefix="violation.")) == ["e01", "e02", "e06", "e08"]
    assert ids(await log.query(kind_prefix="violation")) == ["e01", "e02", "e04", "e06", "e08"]
    assert ids(await log.query(kind_prefix="Violation.")) == ["e05"]
    assert await log.query(kind_prefix="violation.*") == []
    assert await log.query(kind_prefix="%") == []


async def test_since_inclusive_until_exclusive(log: EventLog, sample: list[Event]) -> None:
    assert ids(await log.query(since=at(1), until=at(3))) == ["e02", "e03", "e04"]
    assert ids(await log.query(since=at(5.5))) == ["e08"]
    assert ids(await log.query(until=at(1))) == ["e01"]
    assert await log.query(since=at(3), until=at(3)) == []


async def test_time_bounds_in_other_timezones(log: EventLog, sample: list[Event]) -> None:
    plus_two = timezone(timedelta(hours=2))
    since = at(4).astimezone(plus_two)
    assert ids(await log.query(since=since)) == ["e06", "e07", "e08"]
    with pytest.raises(InvalidInput):
        await log.query(since=datetime(2024, 5, 1, 12, 0, 4))  # naive


async def test_sub_millisecond_bounds_round_the_same_way(log: EventLog) -> None:
    await log.append([Event(id="x", ts=at(0), kind="k")])  # exactly at a millisecond
    assert await log.query(since=at(0.0005)) == []  # bound just after it excludes it
    assert ids(await log.query(until=at(0.0005))) == ["x"]


async def test_filters_combine(log: EventLog, sample: list[Event]) -> None:
    found = await log.query(
        attempt_id="a1", kind_prefix="violation.", since=at(0.5), until=at(10), newest_first=True
    )
    assert ids(found) == ["e02"]
    both = await log.query(attempt_id="a2", kinds=["violation.no_face", "violation.phone"])
    assert ids(both) == ["e06", "e08"]


async def test_count(log: EventLog, sample: list[Event]) -> None:
    assert await log.count() == 8
    assert await log.count(attempt_id="a1") == 4
    assert await log.count(kind="violation.phone") == 2
    assert await log.count(attempt_id="a2", kind="violation.phone") == 1
    assert await log.count(kind="nothing") == 0


async def test_ping_and_close_twice(log: EventLog) -> None:
    await log.ping()
    await log.close()
    await log.close()
    with pytest.raises(Unavailable):
        await log.ping()


async def test_mongo_ping_on_closed_port_is_unavailable() -> None:
    log = MongoEventLog("mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=200")
    try:
        with pytest.raises(Unavailable, match="unreachable"):
            await log.ping()
        with pytest.raises(Unavailable):
            await log.append([Event(kind="k")])
    finally:
        await log.close()


async def test_sqlite_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    log = SqliteEventLog(folder)
    with pytest.raises(Unavailable):
        await log.open()
    with pytest.raises(Unavailable, match="not open"):
        await log.ping()
