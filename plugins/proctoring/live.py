"""Live proctoring of the attempts whose media this process holds.

Everything that happens to an attempt while it streams meets here: observations from the
pipeline, telemetry from the data channel, and the passing of time (a tick each second that
also notices a camera that stopped sending). Each attempt has its own rules engine and lock,
so changes are applied in order: the violation event is appended, proctors are alerted, a
snapshot is taken, the score is stored, and the wall's tile is republished.

The alert is published before the snapshot is encoded (its blob key is fixed in advance) and
before the score is written, because the time from a frame to a proctor's screen is what the
product promises; the evidence follows a few milliseconds later.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import select
from sqlmodel import col

from core import domain_events
from core.detectors import Observation
from core.events import Event
from core.policy import ProctoringPolicy
from core.rules import AttemptRules, RuleChange, Violation
from core.scoring import score
from core.services import Services
from media.peer import PeerRegistry
from media.sampler import FrameSampler
from plugins.exams.tables import Attempt, Exam, ExamCandidate
from plugins.proctoring import orphans, scores, snapshots, tiles
from storage.tables.user import User

log = logging.getLogger(__name__)

CHECK_PREFIX = "check-"
"""Peers whose key starts with this are pre-exam system checks, not attempts: their frames are
analysed (the check shows whether a face is visible) but nothing is written or scored."""

STATUS_EVERY_S = 5.0  # how often attempt status (ended, paused) is re-read from SQL
RESCORE_EVERY_S = 5.0  # how often an open violation's growing share is re-stored
FRAME_FRESH_S = 5.0  # a violation snapshot uses a frame at most this old
RECENT_INSTANT_S = 60.0  # an instant violation stays on the tile this long


@dataclass
class AttemptLive:
    """One attempt's live state in this process."""

    attempt_id: str
    exam_id: int
    exam_title: str
    user_id: int
    candidate: str
    policy: ProctoringPolicy
    rules: AttemptRules
    violations: dict[str, Violation] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    status: str = "in_progress"
    paused: bool = False
    seen_peer: bool = False
    frames_seen: int = -1
    peer_key: int = 0  # id() of the peer whose frames were counted (a reconnect replaces it)
    image: np.ndarray | None = None
    image_ts: float = 0.0
    last_snapshot: float = 0.0
    thumbnail_at: float | None = None
    last_score: float = 0.0
    last_rescore: float = 0.0
    published: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    orphan_window: int | None = None  # held without a stream here (plugins.proctoring.orphans)


class LiveProctoring:
    def __init__(self, services: Services, registry: PeerRegistry, sampler: FrameSampler) -> None:
        self.services = services
        self.registry = registry
        self.sampler = sampler
        self.attempts: dict[str, AttemptLive] = {}
        self._loading: set[str] = set()
        self._last_status = 0.0
        self._tasks: set[asyncio.Task[None]] = set()

    # -- inputs ----------------------------------------------------------------------------------

    def frames(self, sampled: dict[str, np.ndarray], now: float) -> None:
        """Keep each attempt's newest sampled frame for snapshots (no copy: frames are fresh)."""
        for attempt_id, image in sampled.items():
            live = self.attempts.get(attempt_id)
            if live is not None:
                live.image, live.image_ts = image, now

    async def observe(self, observations: Iterable[Observation]) -> None:
        for observation in observations:
            live = self.attempts.get(observation.attempt_id)
            if live is not None:
                kind = f"observation.{observation.detector}"
                await self._feed(live, kind, observation.ts, observation.values)

    def telemetry(self, attempt_id: str, kind: str, values: dict[str, object]) -> None:
        """A browser event (synchronous callback from the data channel)."""
        live = self.attempts.get(attempt_id)
        if live is not None:
            self._spawn(self._feed(live, f"telemetry.{kind}", time.time(), values))

    # -- time ------------------------------------------------------------------------------------

    async def tick(self, now: float | None = None) -> None:
        """Once a second: find new attempts, feed stream state, let rules see time pass."""
        now = time.time() if now is None else now
        for peer_id in list(self.registry.peers):
            if (
                peer_id not in self.attempts
                and peer_id not in self._loading
                and not peer_id.startswith(CHECK_PREFIX)
            ):
                self._loading.add(peer_id)
                self._spawn(self._load(peer_id))
        if now - self._last_status >= STATUS_EVERY_S:
            self._last_status = now
            await self._refresh_status(now)
            await self._watch_orphans(now)
        for live in list(self.attempts.values()):
            async with live.lock:
                changes = live.rules.feed("stream.state", now, {"video": self._video(live)})
                changes += live.rules.tick(now)
                await self._apply(live, changes, now)
                if live.image is not None and (
                    now - live.last_snapshot >= live.policy.snapshot_interval_s
                    and live.image_ts > live.last_snapshot
                ):
                    live.last_snapshot = now
                    self._spawn(self._snapshot(live, live.image, live.image_ts, "interval"))
                if live.rules.open_violations() and now - live.last_rescore >= RESCORE_EVERY_S:
                    await self._rescore(live, now)
                await self._publish_tile(live, now)

    def _video(self, live: AttemptLive) -> bool:
        """Did frames arrive since the last tick?"""
        peer = self.registry.get(live.attempt_id)
        if peer is None or not peer.video:
            return False
        live.seen_peer = True
        if id(peer) != live.peer_key:  # a new connection counts its frames from zero
            live.peer_key, live.frames_seen = id(peer), -1
        received = sum(tap.received for tap in peer.video)
        moved = received > live.frames_seen >= 0
        first = live.frames_seen < 0
        live.frames_seen = received
        return moved or (first and received > 0)

    def context_of(self, attempt_id: str) -> dict[str, Any]:
        """What plugins said about the attempt, handed to detectors with each of its frames."""
        live = self.attempts.get(attempt_id)
        return live.context if live is not None else {}

    def connection(self, live: AttemptLive) -> tiles.Connection:
        peer = self.registry.get(live.attempt_id)
        if peer is None:
            return "disconnected" if live.seen_peer else "none"
        state = peer.state
        if state == "connected":
            return "connected"
        if state in ("new", "connecting"):
            return "connecting"
        return "disconnected"

    # -- attempts no process streams (plugins.proctoring.orphans) ---------------------------------

    async def _watch_orphans(self, now: float) -> None:
        try:
            await self._orphans(now)
        except Exception:  # the cache or the database is down: try again at the next refresh
            log.exception("live proctoring could not look for unstreamed attempts")

    async def _orphans(self, now: float) -> None:
        streaming = [a for a in self.attempts if self.registry.get(a) is not None]
        await orphans.mark_streams(self.services, streaming)
        for attempt_id, live in list(self.attempts.items()):
            if live.orphan_window is None:
                continue
            if self.registry.get(attempt_id) is not None:  # the stream came here
                live.orphan_window = None
                continue
            held = None
            if not await orphans.streamed_elsewhere(self.services, attempt_id):
                held = await orphans.keep(self.services, attempt_id, live.orphan_window, now)
            if held is None:
                self._release(live)
            else:
                live.orphan_window = held
        known = set(self.attempts) | self._loading
        for attempt_id in await orphans.unwatched(self.services, known):
            if await orphans.streamed_elsewhere(self.services, attempt_id):
                continue
            number = orphans.window(now)
            if await orphans.claim(self.services, attempt_id, number):
                self._loading.add(attempt_id)
                self._spawn(self._load(attempt_id, orphan_window=number))

    def _release(self, live: AttemptLive) -> None:
        """Let another process watch the attempt: its load closes what is open here."""
        self.attempts.pop(live.attempt_id, None)
        self.sampler.set_rate(live.attempt_id, None)

    # -- loading and ending ----------------------------------------------------------------------

    async def _load(self, attempt_id: str, orphan_window: int | None = None) -> None:
        try:
            live = await self._read(attempt_id)
            if live is not None:
                live.orphan_window = orphan_window
                self.sampler.set_rate(attempt_id, live.policy.analysis_fps)
                self.attempts[attempt_id] = live
                now = time.time()
                async with live.lock:
                    await self._close_stale(live, now)
                    await self._rescore(live, now)
                    await self._publish_tile(live, now)
        except Exception:
            log.exception("live proctoring could not load attempt %s", attempt_id)
        finally:
            self._loading.discard(attempt_id)

    async def _read(self, attempt_id: str) -> AttemptLive | None:
        async with self.services.db.session() as db:
            attempt = await db.get(Attempt, attempt_id)
            if attempt is None or attempt.status != "in_progress":
                return None
            exam = await db.get(Exam, attempt.exam_id)
            user = await db.get(User, attempt.user_id)
            assignment = (
                await db.execute(
                    select(ExamCandidate).where(
                        col(ExamCandidate.exam_id) == attempt.exam_id,
                        col(ExamCandidate.user_id) == attempt.user_id,
                    )
                )
            ).scalar_one_or_none()
        if exam is None or user is None:
            return None
        context = await attempt_context(self.services, attempt_id, attempt.exam_id, attempt.user_id)
        policy = ProctoringPolicy.of(exam.proctoring_policy)
        exempt = assignment.exempt_detectors if assignment is not None else []
        history = await scores.load_violations(self.services, attempt_id)
        return AttemptLive(
            attempt_id=attempt_id,
            exam_id=attempt.exam_id,
            exam_title=exam.title,
            user_id=attempt.user_id,
            candidate=user.display_name or user.email,
            policy=policy,
            rules=AttemptRules(attempt_id, policy.rules_for(exempt)),
            violations={v.id: v for v in history},
            paused=getattr(attempt, "paused_at", None) is not None,
            context=context,
        )

    async def _close_stale(self, live: AttemptLive, now: float) -> None:
        """Violations a previous process left open end now: nobody watched them since."""
        for violation in list(live.violations.values()):
            if violation.open:
                ended = violation.model_copy(update={"ended_at": now})
                ended.text = ended.describe()
                await self._record(live, RuleChange("ended", ended), now)

    async def _refresh_status(self, now: float) -> None:
        if not self.attempts:
            return
        async with self.services.db.session() as db:
            rows = (
                await db.execute(select(Attempt).where(col(Attempt.id).in_(list(self.attempts))))
            ).scalars()
            states = {a.id: (a.status, getattr(a, "paused_at", None) is not None) for a in rows}
        for attempt_id, live in list(self.attempts.items()):
            status, paused = states.get(attempt_id, ("gone", False))
            live.paused = paused
            if status != "in_progress":
                await self._end(live, status, now)

    async def _end(self, live: AttemptLive, status: str, now: float) -> None:
        async with live.lock:
            live.status = status
            await self._apply(live, live.rules.close(now), now)
            await self._rescore(live, now)
        self.attempts.pop(live.attempt_id, None)
        self.sampler.set_rate(live.attempt_id, None)
        await self.services.cache.delete(tiles.tile_key(live.attempt_id))
        await tiles.publish(
            self.services,
            {"type": "removed", "attempt_id": live.attempt_id, "exam_id": live.exam_id},
        )

    # -- changes ---------------------------------------------------------------------------------

    async def _feed(
        self, live: AttemptLive, kind: str, ts: float, values: dict[str, object]
    ) -> None:
        async with live.lock:
            if live.attempt_id not in self.attempts:
                return
            changes = live.rules.feed(kind, ts, values)
            if changes:
                await self._apply(live, changes, time.time())
                await self._publish_tile(live, time.time())

    async def _apply(self, live: AttemptLive, changes: list[RuleChange], now: float) -> None:
        if not changes:
            return
        for change in changes:
            violation = change.violation
            fresh = live.image is not None and now - live.image_ts <= FRAME_FRESH_S
            if change.type == "started" and fresh and live.image is not None:
                key = snapshots.snapshot_key(live.attempt_id, live.image_ts)
                violation.evidence["snapshot"] = key
                self._spawn(
                    self._snapshot(live, live.image, live.image_ts, "violation", violation.id)
                )
            await self._record(live, change, now)
        await self._rescore(live, now)

    async def _record(self, live: AttemptLive, change: RuleChange, now: float) -> None:
        violation = change.violation
        previous = live.violations.get(violation.id)
        if previous is not None and "snapshot" in previous.evidence:
            violation.evidence.setdefault("snapshot", previous.evidence["snapshot"])
        live.violations[violation.id] = violation
        event = Event(
            kind=f"violation.{change.type}",
            ts=datetime.fromtimestamp(now, UTC),
            attempt_id=live.attempt_id,
            source="rules",
            data=violation.model_dump(mode="json"),
        )
        await self.services.events.append([event])
        if change.type == "started":
            await tiles.publish(
                self.services,
                {
                    "type": "alert",
                    "attempt_id": live.attempt_id,
                    "exam_id": live.exam_id,
                    "violation": violation.model_dump(mode="json"),
                },
            )
            await domain_events.emit(
                self.services,
                "violation.raised",
                {
                    "attempt_id": live.attempt_id,
                    "exam_id": live.exam_id,
                    "violation_id": violation.id,
                    "kind": violation.kind,
                    "severity": violation.severity,
                    "label": violation.label,
                    "text": violation.describe(now),
                },
            )

    async def _rescore(self, live: AttemptLive, now: float) -> None:
        live.last_rescore = now
        violations = list(live.violations.values())
        dismissed = await scores.dismissed(self.services, live.attempt_id)
        breakdown = score(violations, live.policy.weights(), dismissed=dismissed, now=now)
        live.last_score = breakdown.score
        await scores.save_score(self.services, live.attempt_id, live.exam_id, breakdown, violations)

    async def _snapshot(
        self,
        live: AttemptLive,
        image: np.ndarray,
        ts: float,
        reason: str,
        violation_id: str | None = None,
    ) -> None:
        try:
            await snapshots.take(
                self.services, live.attempt_id, image, ts, reason=reason, violation_id=violation_id
            )
            live.thumbnail_at = ts
        except Exception:
            log.exception("could not store a snapshot of attempt %s", live.attempt_id)

    # -- the tile --------------------------------------------------------------------------------

    def tile(self, live: AttemptLive, now: float) -> tiles.Tile:
        instant = {rule.kind for rule in live.rules.rules if rule.shape == "instant"}
        shown = [
            v
            for v in live.violations.values()
            if v.open
            or (v.kind in instant and now - (v.ended_at or v.started_at) <= RECENT_INSTANT_S)
        ]
        badges = [
            tiles.Badge(
                kind=v.kind,
                label=v.label,
                text=v.describe(now if v.open else None),
                severity=v.severity,
                since=v.started_at,
            )
            for v in sorted(shown, key=lambda v: v.started_at)
        ]
        return tiles.Tile(
            attempt_id=live.attempt_id,
            exam_id=live.exam_id,
            exam_title=live.exam_title,
            user_id=live.user_id,
            candidate=live.candidate,
            status=live.status,
            paused=live.paused,
            proctored=live.policy.enabled,
            connection=self.connection(live),
            score=live.last_score,
            badges=badges,
            open_violations=sum(1 for v in live.violations.values() if v.open),
            violations=len(live.violations),
            thumbnail_at=live.thumbnail_at,
            updated_at=now,
        )

    async def _publish_tile(self, live: AttemptLive, now: float) -> None:
        """Publish when something a proctor sees changed (durations count in whole seconds)."""
        tile = self.tile(live, now)
        signature = tile.model_dump_json(exclude={"updated_at"})
        if signature == live.published:
            return
        live.published = signature
        await tiles.publish_tile(self.services, tile)

    # -- housekeeping ----------------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def attempt_context(
    services: Services, attempt_id: str, exam_id: int, user_id: int
) -> dict[str, Any]:
    """Every plugin's ``invigilator_attempt_context`` merged; one that fails is left out."""
    plugins = services.plugins
    merged: dict[str, Any] = {}
    if plugins is None:
        return merged
    arguments = {
        "services": services,
        "attempt_id": attempt_id,
        "exam_id": exam_id,
        "user_id": user_id,
    }
    for impl in reversed(plugins.hook.invigilator_attempt_context.get_hookimpls()):
        try:
            value = impl.function(**{name: arguments[name] for name in impl.argnames})
            if inspect.isawaitable(value):
                value = await value
            merged.update(cast("Mapping[str, Any] | None", value) or {})
        except Exception:
            log.exception(
                "plugin %s could not give the context of %s", impl.plugin_name, attempt_id
            )
    return merged
