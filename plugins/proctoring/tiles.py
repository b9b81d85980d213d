"""Tiles: what the proctor wall draws for each attempt in progress, and how they are found.

The process that holds an attempt's media knows its live state and publishes a full tile on
every change (``proctoring.live``) and keeps the newest in the cache. A wall that connects to
any process builds its first picture from SQL (every attempt in progress, with its stored
score) overlaid with the cached live tiles, so it does not matter which process it reached.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import col

from core.channels import PROCTOR_LIVE
from core.policy import SEVERITY_RANK, ProctoringPolicy
from core.services import Services
from plugins.exams.tables import Attempt, Exam
from plugins.proctoring.tables import ProctoringScore
from storage.tables.user import User

Connection = Literal["connected", "connecting", "disconnected", "none"]
TILE_TTL_S = 3600.0


class Badge(BaseModel):
    kind: str
    label: str
    text: str
    severity: str
    since: float


class Tile(BaseModel):
    attempt_id: str
    exam_id: int
    exam_title: str
    user_id: int
    candidate: str
    status: str = "in_progress"
    paused: bool = False
    proctored: bool = True
    connection: Connection = "none"
    score: float = 0.0
    badges: list[Badge] = Field(default_factory=list)
    open_violations: int = 0
    violations: int = 0
    thumbnail_at: float | None = None
    updated_at: float = Field(default_factory=time.time)


def tile_key(attempt_id: str) -> str:
    return f"proctoring:tile:{attempt_id}"


def risk(tile: Tile) -> tuple[float, int, int]:
    """Sort key, highest risk first: score, then the worst open badge, then open count."""
    worst = max((SEVERITY_RANK.get(b.severity, 0) for b in tile.badges), default=0)
    return (-tile.score, -worst, -tile.open_violations)


async def publish_tile(services: Services, tile: Tile) -> None:
    payload = tile.model_dump_json()
    await services.cache.set(tile_key(tile.attempt_id), payload.encode(), ttl=TILE_TTL_S)
    await services.bus.publish(PROCTOR_LIVE, f'{{"type":"tile","tile":{payload}}}'.encode())


async def publish(services: Services, message: dict[str, Any]) -> None:
    await services.bus.publish(PROCTOR_LIVE, json.dumps(message).encode())


async def cached_tile(services: Services, attempt_id: str) -> Tile | None:
    raw = await services.cache.get(tile_key(attempt_id))
    if raw is None:
        return None
    try:
        return Tile.model_validate_json(raw)
    except ValueError:
        return None


async def current_tiles(
    services: Services, *, exam_id: int | None = None, attempt_id: str | None = None
) -> list[Tile]:
    """Every attempt in progress (or just the one asked for, in any state), risk-sorted."""
    query = (
        select(Attempt, Exam, User, ProctoringScore)
        .join(Exam, col(Exam.id) == col(Attempt.exam_id))
        .join(User, col(User.id) == col(Attempt.user_id))
        .outerjoin(ProctoringScore, col(ProctoringScore.attempt_id) == col(Attempt.id))
    )
    if attempt_id is not None:
        query = query.where(col(Attempt.id) == attempt_id)
    else:
        query = query.where(col(Attempt.status) == "in_progress")
    if exam_id is not None:
        query = query.where(col(Attempt.exam_id) == exam_id)
    async with services.db.session() as db:
        rows = (await db.execute(query.limit(5000))).all()
    tiles: list[Tile] = []
    for attempt, exam, user, stored in rows:
        live = await cached_tile(services, attempt.id)
        if live is not None and live.status == attempt.status:
            tiles.append(live)
            continue
        tiles.append(base_tile(attempt, exam, user, stored))
    tiles.sort(key=risk)
    return tiles


def base_tile(attempt: Attempt, exam: Exam, user: User, stored: ProctoringScore | None) -> Tile:
    """A tile from SQL alone: no live connection known to this process."""
    return Tile(
        attempt_id=attempt.id,
        exam_id=attempt.exam_id,
        exam_title=exam.title,
        user_id=attempt.user_id,
        candidate=user.display_name or user.email,
        status=attempt.status,
        paused=getattr(attempt, "paused_at", None) is not None,
        proctored=ProctoringPolicy.of(exam.proctoring_policy).enabled,
        score=stored.score if stored is not None else 0.0,
        open_violations=stored.open_violations if stored is not None else 0,
        violations=stored.violations if stored is not None else 0,
    )
