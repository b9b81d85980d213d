"""Log lines carry the request id and structured fields; the access log writes one per request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from webapp.logging_setup import REQUEST_ID, configure_logging

from .conftest import Client, make_settings


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_with_request_id_and_extras(tmp_path: Path, restore_root: None) -> None:
    stream = io.StringIO()
    configure_logging(make_settings(tmp_path, log_format="json"), stream=stream)
    token = REQUEST_ID.set("req-1")
    try:
        logging.getLogger("invigilator.test").info("hello %s", "world", extra={"exam": 3})
    finally:
        REQUEST_ID.reset(token)
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["msg"] == "hello world"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "invigilator.test"
    assert entry["request_id"] == "req-1"
    assert entry["exam"] == 3
    assert entry["ts"].endswith("+00:00")


def test_text_format_and_no_duplicate_handlers(tmp_path: Path, restore_root: None) -> None:
    stream = io.StringIO()
    configure_logging(make_settings(tmp_path, log_format="json"), stream=io.StringIO())
    configure_logging(make_settings(tmp_path, log_format="text"), stream=stream)
    logging.getLogger("invigilator.test").warning("careful", extra={"k": "v"})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    for part in ("WARNING", "careful", "k=v"):
        assert part in lines[0]


async def test_access_log_one_record_per_request(
    client: Client, tmp_path: Path, restore_root: None
) -> None:
    stream = io.StringIO()
    configure_logging(make_settings(tmp_path, log_format="json"), stream=stream)
    await client.get("/api/v1/items/5?token=secret", headers={"X-Request-ID": "acc-1"})
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [r for r in records if r["logger"] == "invigilator.access"]
    assert len(access) == 1
    (entry,) = access
    assert entry["request_id"] == "acc-1"
    assert entry["method"] == "GET"
    assert entry["path"] == "/api/v1/items/{item_id}"
    assert entry["status"] == 200
    assert entry["bytes"] > 0
    assert entry["client"] == "127.0.0.1"
    assert isinstance(entry["duration_ms"], float)
    assert "secret" not in stream.getvalue()  # query strings (tokens) are never logged


async def test_unhandled_error_logged_with_request_id(
    client: Client, tmp_path: Path, restore_root: None
) -> None:
    stream = io.StringIO()
    configure_logging(make_settings(tmp_path, log_format="json"), stream=stream)
    await client.get("/api/v1/boom", headers={"X-Request-ID": "boom-2"})
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    (error,) = [r for r in records if r["logger"] == "invigilator.errors"]
    assert error["request_id"] == "boom-2"
    assert "secret-internal-detail" in error["exc"]
