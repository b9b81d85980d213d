"""Two server processes behind one Redis (two apps here, sharing the database and Redis): the
candidate streams to one, the proctor's wall is served by the other, and alerts, tiles and
proctor actions cross between them over Redis pub/sub."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.channels import ATTEMPT_CONTROL
from core.settings import Settings, load_settings
from storage.tables.user import User
from tests.exams.support import Client, headers
from tests.proctoring.conftest import authenticate, write_plugins_file
from tests.proctoring.live_kit import (
    EMPTY,
    Switchable,
    proctor,
    proctored,
    publishing,
    receive,
)
from webapp.app import create_app
from webapp.keys import AUTHENTICATE, SERVICES

__all__ = ["proctor", "proctored", "publishing"]  # fixtures used by name


@pytest.fixture
def settings(tmp_path: Path, redis_url: str) -> Settings:
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=write_plugins_file(tmp_path),
        broker_url=redis_url,
        log_format="text",
        rate_limit_per_minute=0,
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )


@pytest.fixture
async def other_process(settings: Settings, client: Client) -> AsyncIterator[Client]:
    """A second app on the same database and Redis, as a second server process would be."""
    app = create_app(settings)
    app[AUTHENTICATE] = authenticate
    async with TestClient(TestServer(app)) as second:
        yield second


async def test_alerts_and_actions_cross_processes_over_redis(
    client: Client,
    other_process: Client,
    proctor: User,
    proctored: str,
    publishing: tuple[Switchable, Any],
) -> None:
    track, _channel = publishing  # streams to ``client``'s app
    assert client.app[SERVICES].bus is not other_process.app[SERVICES].bus
    ws = await other_process.ws_connect("/api/v1/proctor/live", headers=headers(proctor))
    hello = await ws.receive_json(timeout=10)
    assert hello["type"] == "hello"
    await receive(
        ws,
        lambda m: (
            m["type"] == "tile"
            and m["tile"]["attempt_id"] == proctored
            and m["tile"]["connection"] == "connected"
        ),
    )
    track.image = EMPTY
    alert = await receive(ws, lambda m: m["type"] == "alert")
    assert alert["violation"]["kind"] == "no_face"

    # A proctor acting through the second process reaches subscribers of the first.
    async with client.app[SERVICES].bus.subscribe(ATTEMPT_CONTROL) as messages:
        await asyncio.sleep(0.2)  # Redis delivers only to subscriptions already made
        response = await other_process.post(
            f"/api/v1/proctor/attempts/{proctored}/actions",
            json={"action": "message", "text": "Please stay in view."},
            headers=headers(proctor),
        )
        assert response.status == 201, await response.text()
        raw = await asyncio.wait_for(messages.__anext__(), timeout=5)
    assert json.loads(raw)["text"] == "Please stay in view."
    await ws.close()
