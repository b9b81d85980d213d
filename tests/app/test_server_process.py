"""Boot the real server process as an operator would and probe it over HTTP."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def running_server(env: dict[str, str], folder: Path) -> Iterator[str]:
    """Run ``invigilator serve`` on a free port until the block ends; it must exit cleanly."""
    port = free_port()
    env = {**env, "INVIGILATOR_PORT": str(port)}
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
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
                    pytest.fail("server exited:\n" + log_path.read_text())
                try:
                    if fetch(base + "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("server did not answer /healthz:\n" + log_path.read_text())
                time.sleep(0.2)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
    assert code == 0, log_path.read_text()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    plugins_file = write_plugins_file(
        tmp_path, modules=("tests.fixtures.sample_plugin.plugin", "tests.fixtures.broken_plugin")
    )
    env = {
        **os.environ,
        "INVIGILATOR_DATA_DIR": str(tmp_path / "var"),
        "INVIGILATOR_PLUGINS_FILE": str(plugins_file),
        "PYTHONPATH": str(ROOT),
    }
    with running_server(env, tmp_path) as base:
        yield base


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


@pytest.fixture
def production_env(
    tmp_path: Path, mysql_url: str, mongo_url: str, s3_url: str, redis_url: str
) -> dict[str, str]:
    return {
        "INVIGILATOR_DATABASE_URL": mysql_url,
        "INVIGILATOR_EVENT_LOG_URL": mongo_url,
        "INVIGILATOR_BLOB_URL": s3_url,
        "INVIGILATOR_BROKER_URL": redis_url,
    }


def test_server_process_on_production_backends(
    tmp_path: Path, production_env: dict[str, str]
) -> None:
    """MySQL + MongoDB + S3 + Redis: not ready until migrated, then ready; jobs need a worker."""
    env = {
        **os.environ,
        **production_env,
        "INVIGILATOR_DATA_DIR": str(tmp_path / "var"),
        "INVIGILATOR_PLUGINS_FILE": str(write_plugins_file(tmp_path)),
        "PYTHONPATH": str(ROOT),
    }
    with running_server(env, tmp_path) as base:
        status, _, body = fetch(base + "/readyz")
        ready = json.loads(body)
        assert status == 503
        schema = next(b for b in ready["backends"] if b["name"] == "schema")
        assert "invigilator migrate" in schema["error"]
        assert all(b["ok"] for b in ready["backends"] if b["name"] != "schema"), ready

        subprocess.run(
            [sys.executable, "-m", "webapp.cli", "migrate"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        status, _, body = fetch(base + "/readyz")
        assert status == 200, body

        worker = subprocess.Popen(
            [sys.executable, "-m", "webapp.cli", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            request = urllib.request.Request(
                base + "/api/v1/sample/jobs/double",
                data=b'{"times": 2}',
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert json.loads(response.read()) == {"value": 4}
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=20) == 0
