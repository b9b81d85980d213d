"""Boot the real server process as an operator would and probe it over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.conftest import write_plugins_file

ROOT = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    plugins_file = write_plugins_file(
        tmp_path, modules=("tests.fixtures.sample_plugin.plugin", "tests.fixtures.broken_plugin")
    )
    env = {
        **os.environ,
        "INVIGILATOR_DATA_DIR": str(tmp_path / "var"),
        "INVIGILATOR_PLUGINS_FILE": str(plugins_file),
        "INVIGILATOR_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "webapp.cli", "serve"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail("server exited:\n" + (tmp_path / "server.log").read_text())
            try:
                if fetch(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    "server did not answer /healthz:\n" + (tmp_path / "server.log").read_text()
                )
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        log.close()
        assert code == 0, (tmp_path / "server.log").read_text()


def test_server_process_answers_health_ready_and_openapi(server: str) -> None:
    status, headers, body = fetch(server + "/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"
    assert headers.get("X-Request-ID")

    status, _, body = fetch(server + "/readyz")
    ready = json.loads(body)
    assert status == 200, ready
    assert ready["status"] == "ready"
    assert ready["failed_plugins"] == ["tests.fixtures.broken_plugin"]

    status, headers, body = fetch(server + "/openapi.json")
    assert status == 200
    document = json.loads(body)
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/sample/echo/{name}" in document["paths"]

    status, _, body = fetch(server + "/docs")
    assert status == 200
    assert b"swagger" in body.lower()

    status, _, body = fetch(server + "/metrics")
    assert status == 200
    assert b"http_requests_total" in body
