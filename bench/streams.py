"""Live proctoring load: N synthetic candidates stream to one server; what does each one cost?

One ``invigilator serve`` process (embedded SQLite database and event log, in-process broker,
rate limit off, log level WARNING) runs twice per candidate count, on the same data:

1. **decode only** — every detector plugin disabled: WebRTC receive, SRTP, depacketize and
   decode of every frame, the audio taps, and whatever else the server does per stream without
   a detector (sampling, snapshots, the wall's tiles);
2. **full pipeline** — the same plus the face detector (``--detectors``) on every sampled frame
   at ``--fps`` per candidate, observations into the event log, rules, score and the live feed
   to a connected proctor.

The candidates are ``bench/stream_senders.py`` processes publishing PRE-ENCODED 640x480 15 fps
video (a real portrait, then an empty scene) and Opus audio through aiortc without re-encoding,
exactly as a browser publishes: full ICE gathering, one signed ``POST …/rtc/offer`` per attempt.
Each candidate alternates between the portrait and the empty scene (staggered across
candidates); the exam's policy raises ``no_face`` at the first analysed empty frame, and a
proctor connected to ``GET /api/v1/proctor/live`` times each alert from the moment its sender
handed the first empty frame to the RTP stack (same machine, same clock).

Only the server is measured (user + system CPU seconds of its process and any children, from
``/proc``, over the window ÷ wall time); the senders share the machine and their CPU is reported
beside it. Linux only:

    .venv/bin/python bench/streams.py --candidates 4 8 16 --seconds 30 --fps 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from stream_senders import CODECS, MediaError, prepare_media  # noqa: E402

from core.plugin_manager import discover_builtins  # noqa: E402
from storage.database import SqlDatabase  # noqa: E402
from storage.passwords import hash_password  # noqa: E402
from storage.tables.user import Role, User  # noqa: E402

PASSWORD = "bench-password-123"
HALF_CYCLE_S = 3.0  # seconds with a face, then seconds without, per candidate
NO_FACE_AT_ONCE = {"no_face": {"min_duration_s": 0, "gap_s": 0}}
TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """The run cannot go on; the message says why (printed without a traceback)."""


# ---------------------------------------------------------------------------------------------
# The server under test


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def detector_plugins() -> list[str]:
    return [name for name, _ in discover_builtins("plugins") if name.startswith("detectors.")]


def write_plugins_file(folder: Path, phase: str, fps: float, detectors: Sequence[str]) -> Path:
    """Media on loopback without ICE servers; in the decode-only phase no detector plugin."""
    keep = {f"detectors.{name}" for name in detectors} if phase == "full" else set()
    disabled = [name for name in detector_plugins() if name not in keep]
    text = (
        "[plugins]\nentry_points = false\n"
        f"disabled = {json.dumps(disabled)}\n\n"
        "[accounts]\naccess_token_minutes = 60\n\n"
        "[proctoring]\nice_servers = []\nbind_loopback = true\n"
        f"analysis_fps = {fps}\n"
    )
    if "detectors.face" in keep:  # the detector's own per-attempt limit must not cap --fps
        text += f"\n[detector_face]\ninterval_s = {1 / fps:.4f}\n"
    path = folder / f"plugins-{phase}.toml"
    path.write_text(text)
    return path


def server_env(folder: Path, port: int, plugins_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVIGILATOR_")}
    return env | {
        "INVIGILATOR_PORT": str(port),
        "INVIGILATOR_DATA_DIR": str(folder / "var"),
        "INVIGILATOR_EVENT_LOG_URL": f"sqlite:///{folder / 'var' / 'events.db'}",
        "INVIGILATOR_RATE_LIMIT_PER_MINUTE": "0",
        "INVIGILATOR_LOG_LEVEL": "WARNING",
        "INVIGILATOR_LOG_FORMAT": "text",
        "INVIGILATOR_PLUGINS_FILE": str(plugins_file),
        "PYTHONPATH": str(ROOT),
    }


class Server:
    """One ``invigilator serve`` process; its CPU time is read from ``/proc/<pid>/stat``."""

    def __init__(self, folder: Path, phase: str, args: argparse.Namespace) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        plugins = write_plugins_file(folder, phase, args.fps, args.detectors)
        self.env = server_env(folder, self.port, plugins)
        self.log_path = folder / f"server-{phase}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def migrate(self) -> None:
        command = [sys.executable, "-m", "webapp.cli", "migrate"]
        done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, check=False)
        if done.returncode != 0:
            raise BenchError(f"migrate failed:\n{done.stderr.decode(errors='replace')[-2000:]}")

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "webapp.cli", "serve"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-3000:]
        return ""

    async def ready(self) -> None:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                if self.process is None or self.process.poll() is not None:
                    raise BenchError(f"the server exited at start-up:\n{self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(self.base + "/readyz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise BenchError("the server did not become ready within two minutes")

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return tree_cpu(self.process.pid)

    def main_thread_seconds(self) -> float:
        """CPU seconds of the main thread alone: the event loop that runs every peer's RTP,
        SRTP and jitter buffers, the HTTP API and live analysis; one core is its ceiling."""
        assert self.process is not None
        pid = self.process.pid
        return process_cpu(pid, Path(f"/proc/{pid}/task/{pid}/stat"))

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def process_cpu(pid: int, path: Path | None = None) -> float:
    """User + system CPU seconds of a process (all its threads) so far."""
    stat = (path or Path(f"/proc/{pid}/stat")).read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and of every process below it (media workers, if any)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    family, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    total = 0.0
    for member in family:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += process_cpu(member)
    return total


def machine_idle() -> tuple[float, float]:
    """(idle, total) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return float(values[3] + values[4]), float(sum(values[:8]))


# ---------------------------------------------------------------------------------------------
# Accounts, exam, attempts


@dataclass
class Setup:
    exam_id: int
    proctor: str  # the proctor's access token
    candidates: list[tuple[str, str]]  # (attempt id, candidate's access token)


async def add_accounts(url: str, candidates: int) -> list[int]:
    """The examiner, the proctor and the candidates (one password hash); the candidates' ids."""
    password_hash = hash_password(PASSWORD)

    def user(email: str, role: Role) -> User:
        return User(email=email, display_name=email, role=role, password_hash=password_hash)

    database = SqlDatabase(url)
    try:
        async with database.session() as db:
            db.add(user("examiner@bench.test", Role.EXAMINER))
            db.add(user("proctor@bench.test", Role.PROCTOR))
            people = [user(f"c{n}@bench.test", Role.CANDIDATE) for n in range(candidates)]
            db.add_all(people)
            await db.commit()
            return [p.id for p in people if p.id is not None]
    finally:
        await database.close()


async def call(
    http: aiohttp.ClientSession, method: str, url: str, token: str, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.request(method, url, json=body, headers=headers) as response:
        return response.status, await response.json(content_type=None)


def expect(answer: tuple[int, Any], wanted: Sequence[int], what: str) -> Any:
    status, body = answer
    if status not in wanted:
        raise BenchError(f"{what}: HTTP {status} {body}")
    return body


async def login(http: aiohttp.ClientSession, base: str, email: str) -> str:
    body = {"email": email, "password": PASSWORD}
    async with http.post(f"{base}/api/v1/auth/login", json=body) as response:
        if response.status != 200:
            raise BenchError(f"login {email}: {response.status} {await response.text()}")
        return str((await response.json())["access_token"])


async def set_up(base: str, database_url: str, candidates: int, fps: float) -> Setup:
    """A proctored exam (one essay question) whose candidates sign in and start their attempts
    through the API, as on an exam day. Not timed."""
    people = await add_accounts(database_url, candidates)
    async with aiohttp.ClientSession() as http:
        examiner = await login(http, base, "examiner@bench.test")
        proctor = await login(http, base, "proctor@bench.test")
        payload = {"type": "essay", "rubric": [{"criterion": "Content", "points": 2}]}
        body: dict[str, Any] = {"type": "essay", "title": "Bench", "payload": payload}
        answer = await call(http, "POST", f"{base}/api/v1/questions", examiner, body)
        question = expect(answer, [201], "question")
        body = {
            "title": "Streams bench",
            "duration_minutes": 240,
            "proctoring_policy": {"enabled": True, "analysis_fps": fps, "rules": NO_FACE_AT_ONCE},
            "sections": [{"rules": [{"question_id": question["id"]}]}],
        }
        exam = expect(
            await call(http, "POST", f"{base}/api/v1/exams", examiner, body), [201], "exam"
        )
        url = f"{base}/api/v1/exams/{exam['id']}"
        seats = {"candidates": [{"user_id": user_id} for user_id in people]}
        expect(await call(http, "PUT", f"{url}/candidates", examiner, seats), [200], "candidates")
        expect(await call(http, "POST", f"{url}/publish", examiner), [200], "publish")
        started = []
        for n in range(candidates):
            token = await login(http, base, f"c{n}@bench.test")
            # Consent to the current text first, as the check page does (a proctored exam does
            # not start without it).
            summary = expect(await call(http, "GET", f"{url}/proctoring", token), [200], "policy")
            agree = {"text_version": summary["text_version"]}
            answer = await call(http, "POST", f"{url}/proctoring/consent", token, agree)
            expect(answer, [200], "consent")
            start = f"{base}/api/v1/my/exams/{exam['id']}/attempts"
            attempt = expect(await call(http, "POST", start, token), [200, 201], "start attempt")
            started.append((str(attempt["id"]), token))
    return Setup(int(exam["id"]), proctor, started)


# ---------------------------------------------------------------------------------------------
# The senders


class Senders:
    """The sender processes: JSON lines on their stdin and stdout (see stream_senders.py)."""

    def __init__(self, folder: Path, base: str, args: argparse.Namespace) -> None:
        self.folder, self.base = folder, base
        self.codec, self.media, self.audio = args.codec, args.media, not args.no_audio
        self.processes: list[asyncio.subprocess.Process] = []
        self.readers: list[asyncio.Task[None]] = []
        self.connected: set[str] = set()
        self.failed: dict[str, str] = {}
        self.switches: dict[str, list[tuple[float, str]]] = {}  # attempt -> [(at, scene)]
        self.changed = asyncio.Event()

    async def start(self, candidates: Sequence[tuple[str, str]], per_process: int) -> None:
        for first in range(0, len(candidates), per_process):
            group = candidates[first : first + per_process]
            with (self.folder / f"senders-{first}.log").open("ab") as log:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    str(BENCH / "stream_senders.py"),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=log,
                    cwd=ROOT,
                )
            self.processes.append(process)
            plan = {
                "base": self.base,
                "codec": self.codec,
                "audio": self.audio,
                "media": self.media,
                "candidates": [{"attempt_id": a, "token": t} for a, t in group],
            }
            await self._write(process, plan)
            self.readers.append(asyncio.get_running_loop().create_task(self._read(process)))

    async def _write(self, process: asyncio.subprocess.Process, message: dict[str, Any]) -> None:
        assert process.stdin is not None
        with contextlib.suppress(ConnectionError):
            process.stdin.write((json.dumps(message) + "\n").encode())
            await process.stdin.drain()

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            with contextlib.suppress(ValueError):
                self._on(json.loads(line))
            self.changed.set()
        self.changed.set()

    def _on(self, message: dict[str, Any]) -> None:
        event = message.get("event")
        if event == "connected":
            self.connected.add(message["attempt_id"])
        elif event == "failed":
            self.failed[message["attempt_id"]] = message["error"]
        elif event == "switched":
            scene = (float(message["at"]), str(message["scene"]))
            self.switches.setdefault(message["attempt_id"], []).append(scene)

    async def wait_connected(self, count: int, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.changed.clear()
            if len(self.connected) + len(self.failed) >= count:
                break
            if all(p.returncode is not None for p in self.processes):
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), max(0.1, deadline - loop.time()))
            if loop.time() > deadline:
                break

    async def send(self, message: dict[str, Any]) -> None:
        for process in self.processes:
            await self._write(process, message)

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.processes:
            with contextlib.suppress(OSError, ValueError):
                total += process_cpu(process.pid)
        return total

    async def stop(self) -> None:
        """Ask every sender to close its connections; kill those that do not exit in time."""
        await self.send({"stop": True})
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.close()
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        await asyncio.gather(*self.readers, return_exceptions=True)


# ---------------------------------------------------------------------------------------------
# One measured phase


@dataclass
class Result:
    candidates: int
    phase: str
    codec: str
    connected: int
    seconds: float
    idle_server_cpu: float
    server_cpu_s: float
    main_thread_cpu_s: float
    senders_cpu_s: float
    machine_busy: float
    frames_received: int
    analysed: int
    batches: int
    pipeline_drops: int
    observations: int
    violations: int
    proctor_feed: str
    alert_latencies: list[float] = field(default_factory=list)
    alerts_missing: int = 0
    observation_latencies: list[float] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    fps: float = 2.0

    @property
    def core_share(self) -> float:
        """Server core-seconds per candidate per second."""
        return self.server_cpu_s / self.seconds / max(1, self.connected)

    @property
    def missed_slots(self) -> int:
        expected = self.connected * self.fps * self.seconds if self.phase == "full" else 0
        return max(0, round(expected - self.analysed))

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("alert_latencies", "observation_latencies"):
            data[name] = [round(v, 4) for v in data[name]]
        data |= {
            "server_cpu_percent": round(100 * self.server_cpu_s / self.seconds, 1),
            "main_thread_cpu_percent": round(100 * self.main_thread_cpu_s / self.seconds, 1),
            "core_share_per_candidate": round(self.core_share, 5),
            "candidates_per_core": round(1 / self.core_share, 1) if self.core_share else None,
            "received_fps_per_candidate": round(self.rate(self.frames_received), 2),
            "analysed_fps": round(self.analysed / self.seconds, 2),
            "analysed_fps_per_candidate": round(self.rate(self.analysed), 3),
            "missed_slots": self.missed_slots,
            "alert_ms": marks(self.alert_latencies),
            "observation_ms": marks(self.observation_latencies),
        }
        return data

    def rate(self, count: int) -> float:
        return count / self.seconds / max(1, self.connected)


def marks(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)

    def at(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))])

    return {"p50": at(0.5), "p95": at(0.95), "max": at(1.0), "n": len(ordered)}


async def scrape(http: aiohttp.ClientSession, base: str) -> dict[str, float]:
    """The pipeline's Prometheus counters, summed over detectors."""
    async with http.get(f"{base}/metrics") as response:
        text = await response.text()
    wanted = {"detector_batch_frames_sum", "detector_batch_frames_count"}
    wanted.add("detector_frames_dropped_total")
    totals = dict.fromkeys(wanted, 0.0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in totals:
                totals[sample.name] += sample.value
    return totals


async def received(
    http: aiohttp.ClientSession, base: str, token: str, attempts: Sequence[str]
) -> int:
    """Video frames the server received and decoded, summed over the attempts."""

    async def one(attempt_id: str) -> int:
        url = f"{base}/api/v1/attempts/{attempt_id}/rtc/stats"
        status, body = await call(http, "GET", url, token)
        return int(body["frames_received"]) if status == 200 else 0

    return sum(await asyncio.gather(*(one(a) for a in attempts)))


@dataclass
class AlertFeed:
    """What the proctor WebSocket gave: its state and each ``alert`` with its arrival time."""

    status: str = "not opened"
    alerts: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    async def watch(self, http: aiohttp.ClientSession, base: str, token: str, exam: int) -> None:
        url = f"{base}/api/v1/proctor/live?exam_id={exam}"
        try:
            socket_ = await http.ws_connect(url, headers={"Authorization": f"Bearer {token}"})
        except aiohttp.WSServerHandshakeError as exc:
            self.status = f"not available (HTTP {exc.status})"
            return
        except aiohttp.ClientError as exc:
            self.status = f"not available ({exc})"
            return
        self.status = "connected"
        async with socket_:
            async for message in socket_:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                with contextlib.suppress(ValueError):
                    data = json.loads(message.data)
                    if isinstance(data, dict) and data.get("type") == "alert":
                        self.alerts.append((time.time(), data))
        self.status = "closed by the server"


def empty_periods(switches: Sequence[tuple[float, str]]) -> list[tuple[float, float]]:
    """[start, end) of each stretch a candidate sent the empty scene (end: inf if still on)."""
    periods: list[tuple[float, float]] = []
    for n, (at, scene) in enumerate(switches):
        if scene == "empty":
            end = next((t for t, s in switches[n + 1 :] if s == "face"), math.inf)
            periods.append((at, end))
    return periods


def alert_latencies(
    switches: dict[str, list[tuple[float, str]]], alerts: Sequence[tuple[float, dict[str, Any]]]
) -> tuple[list[float], int]:
    """Per empty stretch: the first ``no_face`` alert whose violation started in it, received
    minus the moment the first empty frame was sent. Stretches with no alert are counted."""
    latencies: list[float] = []
    missing = 0
    for attempt_id, sequence in switches.items():
        mine = [
            (got, message["violation"])
            for got, message in alerts
            if message.get("attempt_id") == attempt_id
            and isinstance(message.get("violation"), dict)
            and message["violation"].get("kind") == "no_face"
        ]
        for start, end in empty_periods(sequence):
            hits = [
                got
                for got, violation in mine
                if start <= float(violation.get("started_at", got)) < end + 1.0
            ]
            if hits:
                latencies.append(min(hits) - start)
            else:
                missing += 1
    return latencies, missing


def read_events(path: Path, since: float) -> tuple[list[tuple[str, str, str]], int]:
    """``observation.face`` events since ``since`` as (id, attempt, data), and how many
    violations started, straight from the embedded event log."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        low = int(since * 1000)
        rows = connection.execute(
            "SELECT id, attempt_id, data FROM events WHERE kind = 'observation.face' "
            "AND ts >= ? ORDER BY id",
            (low,),
        ).fetchall()
        (violations,) = connection.execute(
            "SELECT COUNT(*) FROM events WHERE kind = 'violation.started' AND ts >= ?", (low,)
        ).fetchone()
    except sqlite3.OperationalError:  # no events table yet: nothing was written
        return [], 0
    finally:
        connection.close()
    return rows, int(violations)


def observation_latencies(
    switches: dict[str, list[tuple[float, str]]], rows: Sequence[tuple[str, str, str]]
) -> list[float]:
    """Per empty stretch: when the first "no face" observation was written (its id carries the
    millisecond it was made, after the detector ran) minus when the first empty frame was sent.
    The half of the alert path that exists without a proctor feed."""
    latencies = []
    for attempt_id, sequence in switches.items():
        made = [
            int(event_id[:12], 16) / 1000
            for event_id, attempt, data in rows
            if attempt == attempt_id and json.loads(data).get("count") == 0
        ]
        for start, end in empty_periods(sequence):
            hits = [t for t in made if start <= t < end + 1.0]
            if hits:
                latencies.append(min(hits) - start)
    return latencies


def toggle_plan(
    attempts: Sequence[str], window: tuple[float, float], seed: int
) -> dict[str, list[float]]:
    """When each candidate turns to the empty scene and back: every HALF_CYCLE_S, staggered
    evenly over one cycle plus a random fraction of a second, ending in time for the last
    empty stretch to be analysed inside the window."""
    rng = random.Random(seed)
    start, end = window
    plan = {}
    for n, attempt_id in enumerate(attempts):
        at = start + 0.5 + 2 * HALF_CYCLE_S * n / len(attempts) + rng.random() * 0.5
        times = []
        while at < end - HALF_CYCLE_S:
            times.append(round(at, 3))
            at += HALF_CYCLE_S
        plan[attempt_id] = times
    return plan


async def server_idle(server: Server, seconds: float) -> float:
    """The server's own CPU share with nobody streaming (timers, the analysis loop)."""
    before, start = server.cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    return (server.cpu_seconds() - before) / (time.monotonic() - start)


async def run_phase(
    server: Server, folder: Path, setup: Setup, count: int, phase: str, args: argparse.Namespace
) -> Result:
    attempts = setup.candidates[:count]
    senders = Senders(folder, server.base, args)
    feed = AlertFeed(status="n/a")
    watcher: asyncio.Task[None] | None = None
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        try:
            if phase == "full":
                feed.status = "no answer"
                watcher = asyncio.get_running_loop().create_task(
                    feed.watch(http, server.base, setup.proctor, setup.exam_id)
                )
            idle = await server_idle(server, 3.0)
            await senders.start(attempts, args.per_process)
            await senders.wait_connected(count, timeout=30 + 2 * count)
            connected = [a for a, _ in attempts if a in senders.connected]
            if not connected:
                problems = "; ".join(sorted(set(senders.failed.values()))) or "no answer"
                raise BenchError(f"no candidate connected ({problems})\n{server.log_tail()}")
            await asyncio.sleep(args.warmup)

            frames0 = await received(http, server.base, setup.proctor, connected)
            metrics0 = await scrape(http, server.base)
            idle0, total0 = machine_idle()
            loop0 = server.main_thread_seconds()
            cpu0, senders0, start = server.cpu_seconds(), senders.cpu_seconds(), time.time()
            plan = toggle_plan(connected, (start, start + args.seconds), seed=count)
            await senders.send({"toggles": plan})
            await asyncio.sleep(args.seconds)
            cpu1, senders1, end = server.cpu_seconds(), senders.cpu_seconds(), time.time()
            loop1 = server.main_thread_seconds()
            idle1, total1 = machine_idle()
            metrics1 = await scrape(http, server.base)
            frames1 = await received(http, server.base, setup.proctor, connected)
            await asyncio.sleep(1.0)  # alerts of the last empty stretches still on their way
        finally:
            await senders.stop()
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await watcher
    rows, violations = read_events(folder / "var" / "events.db", start)
    switches = {a: s for a, s in senders.switches.items() if a in connected}
    latencies, missing = alert_latencies(switches, feed.alerts)
    measured = feed.status.startswith(("connected", "closed"))

    def delta(name: str) -> int:
        return round(metrics1[name] - metrics0[name])

    return Result(
        candidates=count,
        phase=phase,
        codec=args.codec,
        connected=len(connected),
        seconds=end - start,
        idle_server_cpu=idle,
        server_cpu_s=cpu1 - cpu0,
        main_thread_cpu_s=loop1 - loop0,
        senders_cpu_s=senders1 - senders0,
        machine_busy=1 - (idle1 - idle0) / max(1.0, total1 - total0),
        frames_received=frames1 - frames0,
        analysed=delta("detector_batch_frames_sum"),
        batches=delta("detector_batch_frames_count"),
        pipeline_drops=delta("detector_frames_dropped_total"),
        observations=len(rows),
        violations=violations,
        proctor_feed=feed.status,
        alert_latencies=latencies if measured else [],
        alerts_missing=missing if measured else 0,
        observation_latencies=observation_latencies(switches, rows) if phase == "full" else [],
        failures=dict(senders.failed),
        fps=args.fps,
    )


async def bench(folder: Path, args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    setup: Setup | None = None
    database_url = f"sqlite+aiosqlite:///{folder / 'var' / 'invigilator.db'}"
    for count in args.candidates:
        for phase in args.phases:
            server = Server(folder, phase, args)
            server.env["INVIGILATOR_DATABASE_URL"] = database_url
            try:
                server.migrate()
                server.start()
                await server.ready()
                if setup is None:
                    setup = await set_up(server.base, database_url, max(args.candidates), args.fps)
                result = await run_phase(server, folder, setup, count, phase, args)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                code = server.process.poll() if server.process is not None else None
                if code is None:
                    raise
                raise BenchError(
                    f"the server exited with status {code} during the {phase} phase "
                    f"({type(exc).__name__}); its log ends:\n{server.log_tail()}"
                ) from exc
            finally:
                server.stop()
                if args.logs:
                    keep_logs(folder, Path(args.logs), f"{count}-{phase}")
            results.append(result)
            print(f"  {count} candidates, {phase}: done", file=sys.stderr, flush=True)
    return results


def keep_logs(folder: Path, target: Path, tag: str) -> None:
    """Copy the server's and the senders' logs of one phase out of the temporary folder."""
    target.mkdir(parents=True, exist_ok=True)
    for log in [*folder.glob("server-*.log"), *folder.glob("senders-*.log")]:
        (target / f"{tag}-{log.name}").write_bytes(log.read_bytes())
        log.unlink()


def fmt_marks(values: dict[str, float] | None, missing: int | None = None) -> str:
    if values is None:
        return "-"
    text = f"{values['p50']:.0f} / {values['p95']:.0f} / {values['max']:.0f} (n={values['n']}"
    return text + (f", {missing} missed)" if missing else ")")


def table(results: Sequence[Result]) -> str:
    head = (
        "candidates|phase|server CPU % (event loop)|core % per candidate|candidates per core|"
        "received fps per candidate|analysed fps (per candidate)|pipeline drops|missed slots|"
        "alert ms p50 / p95 / max|observation ms p50 / p95 / max|senders CPU %|machine busy %"
    )
    lines = ["| " + " | ".join(head.split("|")) + " |", "|" + "---|" * len(head.split("|"))]
    for result in results:
        data = result.summary()
        full = result.phase == "full"
        cells = [
            f"{result.connected}"
            + ("" if result.connected == result.candidates else f" of {result.candidates}"),
            "full pipeline" if full else "decode only",
            f"{data['server_cpu_percent']:.0f} ({data['main_thread_cpu_percent']:.0f})",
            f"{100 * result.core_share:.2f}",
            f"{data['candidates_per_core']:.0f}" if data["candidates_per_core"] else "-",
            f"{data['received_fps_per_candidate']:.1f}",
            f"{data['analysed_fps']:.1f} ({data['analysed_fps_per_candidate']:.2f})"
            if full
            else "-",
            str(result.pipeline_drops) if full else "-",
            str(result.missed_slots) if full else "-",
            fmt_marks(data["alert_ms"], result.alerts_missing) if full else "-",
            fmt_marks(data["observation_ms"]) if full else "-",
            f"{100 * result.senders_cpu_s / result.seconds:.0f}",
            f"{100 * result.machine_busy:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes(results: Sequence[Result]) -> list[str]:
    out = []
    for result in results:
        if result.phase == "full":
            out.append(
                f"{result.connected} candidates, full: proctor feed {result.proctor_feed}; "
                f"server idle (nobody streaming) {100 * result.idle_server_cpu:.1f} % CPU; "
                f"{result.observations} face observations and {result.violations} violations "
                "written in the window"
            )
        if result.failures:
            reasons = "; ".join(sorted(set(result.failures.values())))
            out.append(
                f"{result.candidates} candidates, {result.phase}: "
                f"{len(result.failures)} did not connect: {reasons}"
            )
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--candidates",
        type=int,
        nargs="+",
        default=[8],
        help="candidate counts to run, one server run per count and phase",
    )
    parser.add_argument("--seconds", type=float, default=30, help="measured window per phase")
    parser.add_argument("--warmup", type=float, default=5, help="seconds after all connected")
    parser.add_argument("--fps", type=float, default=2, help="analysed frames per second")
    parser.add_argument(
        "--codec",
        choices=sorted(CODECS),
        default="vp8",
        help="what the candidates send (browsers send VP8 unless told)",
    )
    parser.add_argument(
        "--detectors",
        nargs="+",
        default=["face"],
        help="detector plugins (detectors.NAME) on in the full phase",
    )
    parser.add_argument(
        "--phases", nargs="+", choices=["decode", "full"], default=["decode", "full"]
    )
    parser.add_argument("--per-process", type=int, default=16, help="candidates per sender process")
    parser.add_argument(
        "--no-audio", action="store_true", help="video only (to see what the audio costs)"
    )
    parser.add_argument("--logs", metavar="DIR", help="keep the server and sender logs here")
    parser.add_argument(
        "--json", metavar="FILE", help="also write the results as JSON ('-': to stdout, no table)"
    )
    args = parser.parse_args(argv)
    known = sorted(name.removeprefix("detectors.") for name in detector_plugins())
    if unknown := sorted(set(args.detectors) - set(known)):
        parser.error(f"no detector plugin {', '.join(unknown)}; there are: {', '.join(known)}")
    if not 0 < args.fps <= 10:
        parser.error("--fps must be in (0, 10] (the exam policy's range)")
    if min(args.candidates) < 1 or args.seconds < 2 * HALF_CYCLE_S + 1 or args.per_process < 1:
        parser.error(
            f"need candidates >= 1, seconds >= {2 * HALF_CYCLE_S + 1:.0f}, per-process >= 1"
        )
    return args


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: senders, server and temp folder cleaned up


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    if not Path("/proc/self/stat").exists():
        print("error: this benchmark reads CPU time from /proc (Linux only)", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="invigilator-streams-") as tmp:
            folder = Path(tmp)
            args.media = prepare_media(folder, args.codec)
            results = asyncio.run(bench(folder, args))
    except MediaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the server and the senders were stopped", file=sys.stderr)
        return 130
    payload: dict[str, Any] = {
        "machine": {
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "cpus": os.cpu_count(),
        },
        "settings": {k: v for k, v in vars(args).items() if k not in ("media", "json")},
        "results": [r.summary() for r in results],
    }
    if args.json:
        text = json.dumps(payload, indent=2)
        if args.json == "-":
            print(text)
            return 0
        Path(args.json).write_text(text + "\n")
    media = f"{args.codec.upper()} 640x480 @ 15 fps" + ("" if args.no_audio else " + Opus")
    print(
        f"\n{payload['machine']['python']}, {os.cpu_count()} CPUs shared by the server and the "
        f"senders; {media}; analysis {args.fps:g} fps; detectors: {', '.join(args.detectors)}; "
        f"{args.seconds:g} s window\n"
    )
    print(table(results))
    for line in notes(results):
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
