"""Exam-day load: an exam-start burst, then sustained autosave, on MariaDB and a real server.

Starts ``invigilator serve`` (embedded event log and blobs, in-process broker, rate limit off)
on a MariaDB database: the one named by ``--database-url`` / ``INVIGILATOR_BENCH_DATABASE_URL``,
else a fresh ``invigilator_bench_*`` database created on 127.0.0.1:3306 and dropped afterwards.
Candidates are written straight to the database and then sign in through the API (not timed).
Then, timed:

1. start burst: every candidate starts the same exam at once (all requests in flight within
   the first second), each drawing a shuffled paper with a pool draw;
2. autosave: a fixed number of saves at a fixed concurrency, spread round-robin over the
   candidates and items so that no two saves of one item are ever in flight together;

then checks every acknowledged save against the database and prints one Markdown table:

    .venv/bin/python bench/exam_load.py --candidates 200 --saves 5000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pymysql
from sqlalchemy import select
from sqlmodel import col

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plugins.exams.tables import Answer  # noqa: E402
from storage.database import SqlDatabase  # noqa: E402
from storage.passwords import hash_password  # noqa: E402
from storage.tables.user import Role, User  # noqa: E402

PASSWORD = "bench-password-123"
ESSAY = "A tuple is an immutable sequence; use it for fixed records. " * 30  # ~1.8 kB


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0

    def row(self) -> str:
        ordered = sorted(self.latencies)
        marks = [ordered[max(0, round(p * len(ordered)) - 1)] for p in (0.5, 0.95, 0.99, 1.0)]
        ok = sum(n for status, n in self.statuses.items() if status < 300)
        stale = self.statuses.get(409, 0)
        cells = [self.name, len(ordered), ok, stale, len(ordered) - ok - stale]
        cells += [f"{self.elapsed:.2f}", f"{len(ordered) / self.elapsed:,.0f}"]
        cells += [f"{mark * 1000:.1f}" for mark in marks]
        return "| " + " | ".join(map(str, cells)) + " |"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


MYSQL = {
    "host": os.environ.get("INVIGILATOR_TEST_MYSQL_HOST", "127.0.0.1"),
    "port": int(os.environ.get("INVIGILATOR_TEST_MYSQL_PORT", "3306")),
    "user": os.environ.get("INVIGILATOR_TEST_MYSQL_USER", "root"),
    "password": os.environ.get("INVIGILATOR_TEST_MYSQL_PASSWORD", ""),
}


def admin_sql(statement: str) -> None:
    connection = pymysql.connect(**MYSQL, autocommit=True)  # type: ignore[arg-type]
    with connection.cursor() as cursor:
        cursor.execute(statement)
    connection.close()


def fresh_database() -> tuple[str, str]:
    name = f"invigilator_bench_{secrets.token_hex(4)}"
    admin_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    auth = f"{MYSQL['user']}" + (f":{MYSQL['password']}" if MYSQL["password"] else "")
    return f"mysql+aiomysql://{auth}@{MYSQL['host']}:{MYSQL['port']}/{name}", name


async def add_accounts(url: str, candidates: int) -> list[int]:
    """The examiner and the candidates (one password hash for all); the candidates' ids."""
    password_hash = hash_password(PASSWORD)

    def user(email: str, role: Role) -> User:
        return User(email=email, display_name=email, role=role, password_hash=password_hash)

    database = SqlDatabase(url)
    try:
        async with database.session() as db:
            db.add(user("examiner@bench.test", Role.EXAMINER))
            people = [user(f"c{n}@bench.test", Role.CANDIDATE) for n in range(candidates)]
            db.add_all(people)
            await db.commit()
            return [p.id for p in people if p.id is not None]
    finally:
        await database.close()


async def call(
    http: aiohttp.ClientSession, method: str, url: str, token: str, body: Any = None
) -> tuple[int, Any]:
    async with http.request(
        method, url, json=body, headers={"Authorization": f"Bearer {token}"}
    ) as response:
        return response.status, await response.json(content_type=None)


async def login(http: aiohttp.ClientSession, base: str, email: str) -> str:
    async with http.post(
        f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    ) as response:
        if response.status != 200:
            raise RuntimeError(f"login {email}: {response.status} {await response.text()}")
        return str((await response.json())["access_token"])


def expect(status: int, answer: Any, wanted: int, what: str) -> Any:
    if status != wanted:
        raise RuntimeError(f"{what}: HTTP {status} {answer}")
    return answer


async def set_up_exam(http: aiohttp.ClientSession, base: str, people: list[int]) -> int:
    """Ten questions (two fixed, a pool of eight drawing three), every candidate assigned."""
    token = await login(http, base, "examiner@bench.test")
    ids = []
    for n in range(10):
        payload = {"type": "short_answer", "accepted": [{"value": f"answer {n}"}]}
        if n == 0:
            payload = {"type": "essay", "rubric": [{"criterion": "Content", "points": 2}]}
        body = {"type": payload["type"], "title": f"Bench {n}", "payload": payload}
        body["tags"] = ["bench"] if n > 1 else []
        question = await call(http, "POST", f"{base}/api/v1/questions", token, body)
        ids.append(expect(*question, 201, "question")["id"])
    rules = [{"question_id": ids[0]}, {"question_id": ids[1]}]
    rules.append({"pool": {"tags": ["bench"]}, "count": 3})
    body = {"title": "Bench exam", "duration_minutes": 120, "sections": [{"rules": rules}]}
    exam = expect(*await call(http, "POST", f"{base}/api/v1/exams", token, body), 201, "exam")
    seats = {"candidates": [{"user_id": user_id} for user_id in people]}
    url = f"{base}/api/v1/exams/{exam['id']}"
    expect(*await call(http, "PUT", f"{url}/candidates", token, seats), 200, "candidates")
    expect(*await call(http, "POST", f"{url}/publish", token), 200, "publish")
    return int(exam["id"])


async def timed(
    http: aiohttp.ClientSession, phase: Phase, method: str, url: str, token: str, body: Any = None
) -> Any:
    started = time.perf_counter()
    status, answer = await call(http, method, url, token, body)
    phase.latencies.append(time.perf_counter() - started)
    phase.statuses[status] += 1
    return answer if status < 300 else None


async def autosave(
    http: aiohttp.ClientSession, base: str, live: list[tuple[str, str]], args: argparse.Namespace
) -> tuple[Phase, dict[tuple[str, int], int]]:
    """Save ``n`` goes to candidate ``n % N``, item ``(n // N) % 5`` with the next seq."""
    phase = Phase(f"autosave ({args.saves} saves, concurrency {args.concurrency})")
    pending = iter(range(args.saves))
    acknowledged: dict[tuple[str, int], int] = {}

    async def worker() -> None:
        for n in pending:
            token, attempt = live[n % len(live)]
            item, seq = (n // len(live)) % 5, n // (len(live) * 5) + 1
            body = {"seq": seq, "response": {"text": ESSAY if item == 0 else f"answer {seq}"}}
            url = f"{base}/api/v1/attempts/{attempt}/answers/{item}"
            if await timed(http, phase, "PUT", url, token, body):
                acknowledged[attempt, item] = max(acknowledged.get((attempt, item), 0), seq)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    phase.elapsed = time.perf_counter() - started
    return phase, acknowledged


async def run(base: str, url: str, args: argparse.Namespace, people: list[int]) -> list[Phase]:
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        exam_id = await set_up_exam(http, base, people)
        tokens: list[str] = []
        for start in range(0, args.candidates, 8):  # sign in 8 at a time: argon2 is CPU-bound
            batch = range(start, min(start + 8, args.candidates))
            tokens += await asyncio.gather(*(login(http, base, f"c{n}@bench.test") for n in batch))

        burst = Phase(f"exam-start burst ({args.candidates} at once)")
        started = time.perf_counter()
        start_url = f"{base}/api/v1/my/exams/{exam_id}/attempts"
        attempts = await asyncio.gather(*(timed(http, burst, "POST", start_url, t) for t in tokens))
        burst.elapsed = time.perf_counter() - started

        live = [(t, a["id"]) for t, a in zip(tokens, attempts, strict=True) if a]
        saves, acknowledged = await autosave(http, base, live, args)
    await verify(url, acknowledged)
    return [burst, saves]


async def verify(url: str, acknowledged: dict[tuple[str, int], int]) -> None:
    database = SqlDatabase(url)
    try:
        async with database.session() as db:
            rows = await db.execute(
                select(col(Answer.attempt_id), col(Answer.item), col(Answer.seq))
            )
            stored = {(a, i): s for a, i, s in rows.all()}
    finally:
        await database.close()
    lost = sum(stored.get(key) != seq for key, seq in acknowledged.items())
    print(f"verified: newest acknowledged save of {len(acknowledged)} answers; {lost} missing")


def serve(url: str, folder: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVIGILATOR_")}
    env |= {
        "INVIGILATOR_PORT": str(port),
        "INVIGILATOR_DATA_DIR": folder,
        "INVIGILATOR_DATABASE_URL": url,
        "INVIGILATOR_RATE_LIMIT_PER_MINUTE": "0",
        "INVIGILATOR_LOG_LEVEL": "WARNING",
        "INVIGILATOR_PLUGINS_FILE": str(Path(folder) / "plugins.toml"),
        "PYTHONPATH": str(ROOT),
    }
    (Path(folder) / "plugins.toml").write_text("[plugins]\nentry_points = false\n")
    cli = [sys.executable, "-m", "webapp.cli"]
    subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = (Path(folder) / "server.log").open("wb")
    return subprocess.Popen([*cli, "serve"], cwd=ROOT, env=env, stdout=log, stderr=log)


async def wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(base + "/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become ready within a minute")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--saves", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database-url", default=os.environ.get("INVIGILATOR_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    url, created = (args.database_url, "") if args.database_url else fresh_database()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            server = serve(url, folder, port)
            try:
                asyncio.run(wait_ready(base))
                people = asyncio.run(add_accounts(url, args.candidates))
                phases = asyncio.run(run(base, url, args, people))
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        if created:
            admin_sql(f"DROP DATABASE IF EXISTS `{created}`")
    print(
        f"\n{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, one server process, MariaDB on 127.0.0.1\n"
    )
    columns = "phase|requests|2xx|409 stale|errors|seconds|req/s|p50 ms|p95 ms|p99 ms|max ms"
    print("| " + " | ".join(columns.split("|")) + " |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for phase in phases:
        print(phase.row())


if __name__ == "__main__":
    main()
