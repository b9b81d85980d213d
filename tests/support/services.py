"""Session fixtures for the servers the production adapters are tested against.

Each fixture starts (or finds) one server on loopback and yields a URL for it:

* ``s3_url``: moto's S3-compatible server, as a subprocess;
* ``mongo_url``: a MongoDB wire-protocol server (``mongo_wire_server.py``), as a subprocess;
* ``redis_url``: the Redis already running on 127.0.0.1:6379, database 15, flushed first.

When a server or its program is missing, dependent tests are skipped, unless the environment
variable ``INVIGILATOR_TEST_SERVICES=required`` is set (the Makefile and CI set it): then the
test errors, so a broken test machine can never pass by skipping.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, NoReturn

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
MOTO_SERVER = ROOT / ".venv" / "bin" / "moto_server"
SERVICES_PYTHON = ROOT / ".venv-services" / "bin" / "python"
MONGO_SCRIPT = Path(__file__).with_name("mongo_wire_server.py")
REDIS_HOST, REDIS_PORT, REDIS_TEST_DB = "127.0.0.1", 6379, 15
START_TIMEOUT = 30.0


def services_required() -> bool:
    return os.environ.get("INVIGILATOR_TEST_SERVICES", "").lower() == "required"


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail with the reason when services are required."""
    if services_required():
        pytest.fail(f"{reason} (INVIGILATOR_TEST_SERVICES=required)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP status means the server is up
    except OSError:
        return False


class Server:
    """A subprocess that serves on ``port``; its output goes to a log shown if it fails."""

    def __init__(self, name: str, command: list[str], port: int) -> None:
        self.name = name
        self.port = port
        # Lives as long as the server, so no ``with``: stop() closes it.
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:]

    def wait_until(self, ready: Callable[[int], bool]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                unavailable(f"{self.name} exited with {self.process.returncode}:\n{self.output()}")
            if ready(self.port):
                return
            time.sleep(0.1)
        self.stop()
        unavailable(f"{self.name} did not answer within {START_TIMEOUT:.0f} s:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture(scope="session")
def s3_url() -> Iterator[str]:
    """``s3://`` URL of a moto S3 server with a bucket name unique to this run."""
    if not MOTO_SERVER.exists():
        unavailable(f"moto_server not found at {MOTO_SERVER} (pip install 'moto[server]')")
    port = free_port()
    server = Server("moto_server", [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)], port)
    server.wait_until(http_answers)
    bucket = f"invigilator-test-{uuid.uuid4().hex[:12]}"
    try:
        yield f"s3://testing:testing-secret@127.0.0.1:{port}/{bucket}?secure=false&region=us-east-1"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    """``mongodb://`` URL of a wire-protocol server, naming a database unique to this run."""
    if not SERVICES_PYTHON.exists():
        unavailable(
            f"{SERVICES_PYTHON} not found: create a Python 3.13 venv there with mongoeco[wire]"
        )
    port = free_port()
    command = [str(SERVICES_PYTHON), str(MONGO_SCRIPT), "--port", str(port)]
    server = Server("MongoDB wire server", command, port)
    server.wait_until(port_open)
    try:
        yield f"mongodb://127.0.0.1:{port}/invigilator_test_{uuid.uuid4().hex[:12]}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """``redis://`` URL of the local Redis, test database 15, emptied before the tests use it."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError as error:
        unavailable(f"Redis is not answering on {REDIS_HOST}:{REDIS_PORT}: {error}")
    if not reply.startswith(b"+PONG"):
        unavailable(f"Redis on {REDIS_HOST}:{REDIS_PORT} answered PING with {reply!r}")
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_TEST_DB}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url
