"""Requests per second and latency through the full middleware + binding stack.

Starts a real ``invigilator serve`` process (embedded backends, rate limit off, the sample
plugin loaded) and drives it from this process with a fixed number of requests at a fixed
concurrency, so the numbers include HTTP parsing, request ids, access logging, metrics,
security headers, validation and serialisation.

    .venv/bin/python bench/http_overhead.py --requests 5000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("server did not start")


async def drive(
    base: str, method: str, path: str, body: object, total: int, concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(total):
        queue.put_nowait(index)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                async with session.request(method, base + path, json=body) as response:
                    await response.read()
                    if response.status >= 400:
                        raise RuntimeError(f"{path}: HTTP {response.status}")
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies


def report(name: str, elapsed: float, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    return (
        f"| {name} | {len(latencies) / elapsed:,.0f} | "
        f"{statistics.median(ordered) * 1000:.1f} | {p95:.1f} | {p99:.1f} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        plugins_file = Path(folder) / "plugins.toml"
        plugins_file.write_text("[plugins]\nmodules = ['tests.fixtures.sample_plugin.plugin']\n")
        env = {
            **os.environ,
            "INVIGILATOR_PORT": str(port),
            "INVIGILATOR_DATA_DIR": folder,
            "INVIGILATOR_PLUGINS_FILE": str(plugins_file),
            "INVIGILATOR_RATE_LIMIT_PER_MINUTE": "0",
            "INVIGILATOR_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        server = subprocess.Popen(  # noqa: ASYNC220 (started once, before timing)
            [sys.executable, "-m", "webapp.cli", "serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_ready(base)
            await drive(base, "GET", "/healthz", None, 500, args.concurrency)  # warm-up
            print(f"{args.requests} requests, concurrency {args.concurrency}\n")
            print("| route | req/s | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|")
            cases = [
                ("GET /healthz", "GET", "/healthz", None),
                (
                    "POST /api/v1/sample/echo/{name} (validated body + query)",
                    "POST",
                    "/api/v1/sample/echo/ana?times=2",
                    {"text": "hello"},
                ),
                (
                    "GET /api/v1/system/version (reads a plugin section)",
                    "GET",
                    "/api/v1/system/version",
                    None,
                ),
            ]
            for name, method, path, body in cases:
                elapsed, latencies = await drive(
                    base, method, path, body, args.requests, args.concurrency
                )
                print(report(name, elapsed, latencies))
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    asyncio.run(main())
