"""What proctors and reviewers read: tiles, the live WebSocket, an attempt's evidence.

Everything here works from shared stores (SQL, the event log, the cache, the bus), never from
this process's peers, so a proctor may reach any process. Actions and reviews, which change
things, live in :mod:`plugins.proctoring.actions_api`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import col

from core.errors import NotFound
from core.rules import Violation
from core.scoring import ScoreBreakdown, series
from core.services import Services
from plugins.accounts import sessions
from plugins.proctoring import scores, snapshots, tiles
from plugins.proctoring.tables import ProctorAction, ProctoringScore, ViolationReview
from webapp.binding import principal_of
from webapp.errors import ApiError
from webapp.origin import same_origin
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/proctor", tags=["proctoring"])
OBSERVERS = frozenset({"proctor", "examiner", "admin"})
SNAPSHOT_NAME = re.compile(r"^[0-9]{1,16}\.jpg$")
SESSION_RECHECK_S = 5.0
NOT_FOUND = ErrorSpec(404, "not_found", "no such attempt")


class TileQuery(BaseModel):
    exam_id: int | None = Field(None, ge=1, description="only this exam's attempts")


class ReviewPublic(BaseModel):
    violation_id: str
    decision: str
    note: str
    reviewer_id: int | None
    decided_at: float


class ViolationView(Violation):
    review: ReviewPublic | None = None


class ActionPublic(BaseModel):
    id: int
    attempt_id: str
    actor_id: int | None
    action: str
    text: str
    at: float


class AttemptOverview(BaseModel):
    tile: tiles.Tile
    violations: list[ViolationView]
    score: ScoreBreakdown
    actions: list[ActionPublic]


class SnapshotRef(BaseModel):
    ts: float
    url: str
    reason: str
    violation_id: str | None = None


class TimelineEntry(BaseModel):
    ts: float
    kind: str
    data: dict[str, Any] = Field(default_factory=dict)


class ScorePoint(BaseModel):
    ts: float
    score: float


class Timeline(BaseModel):
    attempt_id: str
    started_at: float
    ended_at: float | None
    violations: list[ViolationView]
    telemetry: list[TimelineEntry]
    actions: list[ActionPublic]
    snapshots: list[SnapshotRef]
    score_series: list[ScorePoint]


def to_action(row: ProctorAction) -> ActionPublic:
    return ActionPublic(
        id=row.id or 0,
        attempt_id=row.attempt_id,
        actor_id=row.actor_id,
        action=row.action,
        text=row.text,
        at=row.at.timestamp(),
    )


def attempt_path(req: ApiRequest[Any, Any]) -> str:
    attempt_id = req.path["attempt_id"]
    if len(attempt_id) > 32:
        raise NotFound("no such attempt")
    return attempt_id


async def tile_of(services: Services, attempt_id: str) -> tiles.Tile:
    found = await tiles.current_tiles(services, attempt_id=attempt_id)
    if not found:
        raise NotFound(f"attempt {attempt_id} does not exist")
    return found[0]


async def reviews_of(services: Services, attempt_id: str) -> dict[str, ReviewPublic]:
    async with services.db.session() as db:
        rows = (
            await db.execute(
                select(ViolationReview).where(col(ViolationReview.attempt_id) == attempt_id)
            )
        ).scalars()
        return {
            r.violation_id: ReviewPublic(
                violation_id=r.violation_id,
                decision=r.decision,
                note=r.note,
                reviewer_id=r.reviewer_id,
                decided_at=r.decided_at.timestamp(),
            )
            for r in rows
        }


async def actions_of(services: Services, attempt_id: str) -> list[ActionPublic]:
    async with services.db.session() as db:
        rows = (
            await db.execute(
                select(ProctorAction)
                .where(col(ProctorAction.attempt_id) == attempt_id)
                .order_by(col(ProctorAction.id))
            )
        ).scalars()
        return [to_action(r) for r in rows]


async def violation_views(services: Services, attempt_id: str) -> list[ViolationView]:
    reviews = await reviews_of(services, attempt_id)
    return [
        ViolationView(**v.model_dump(), review=reviews.get(v.id))
        for v in await scores.load_violations(services, attempt_id)
    ]


@router.get("/tiles", query=TileQuery, response=list[tiles.Tile], roles=OBSERVERS)
async def list_tiles(req: ApiRequest[None, TileQuery]) -> list[tiles.Tile]:
    """Every attempt in progress as the wall draws it, highest risk first."""
    return await tiles.current_tiles(req.services, exam_id=req.query.exam_id)


@router.get("/attempts/{attempt_id}", response=AttemptOverview, roles=OBSERVERS, errors=[NOT_FOUND])
async def attempt_overview(req: ApiRequest) -> AttemptOverview:
    """One attempt for the focus view: tile, violations with decisions, score, actions."""
    attempt_id = attempt_path(req)
    tile = await tile_of(req.services, attempt_id)
    async with req.services.db.session() as db:
        stored = await db.get(ProctoringScore, attempt_id)
    if stored is not None and stored.breakdown:
        breakdown = ScoreBreakdown.model_validate(stored.breakdown)
    else:
        breakdown = await scores.rescore(req.services, attempt_id, save=False)
    return AttemptOverview(
        tile=tile,
        violations=await violation_views(req.services, attempt_id),
        score=breakdown,
        actions=await actions_of(req.services, attempt_id),
    )


@router.get(
    "/attempts/{attempt_id}/timeline", response=Timeline, roles=OBSERVERS, errors=[NOT_FOUND]
)
async def attempt_timeline(req: ApiRequest) -> Timeline:
    """Everything on the review page: violations, telemetry, actions, snapshots, score series."""
    services = req.services
    attempt_id = attempt_path(req)
    try:
        attempt, _exam, policy = await scores.policy_of(services, attempt_id)
    except LookupError:
        raise NotFound(f"attempt {attempt_id} does not exist") from None
    violations = await violation_views(services, attempt_id)
    telemetry = await services.events.query(
        attempt_id=attempt_id, kind_prefix="telemetry.", limit=5000
    )
    shots = await services.events.query(
        attempt_id=attempt_id, kinds=["snapshot"], limit=500, newest_first=True
    )
    ended = attempt.submitted_at.timestamp() if attempt.submitted_at is not None else None
    until = ended if ended is not None else time.time()
    dismissed = {v.id for v in violations if v.review and v.review.decision == "dismissed"}
    points = series(violations, policy.weights(), dismissed=dismissed, until=until)
    return Timeline(
        attempt_id=attempt_id,
        started_at=attempt.started_at.timestamp(),
        ended_at=ended,
        violations=violations,
        telemetry=[TimelineEntry(ts=e.ts.timestamp(), kind=e.kind, data=e.data) for e in telemetry],
        actions=await actions_of(services, attempt_id),
        snapshots=[
            SnapshotRef(
                ts=e.ts.timestamp(),
                url=snapshot_url(attempt_id, str(e.data["blob_key"])),
                reason=str(e.data.get("reason", "")),
                violation_id=e.data.get("violation_id"),
            )
            for e in reversed(shots)
            if e.data.get("blob_key")
        ],
        score_series=[ScorePoint(ts=t, score=s) for t, s in points],
    )


def snapshot_url(attempt_id: str, key: str) -> str:
    """Snapshots are served through this app (same origin, role-checked), not as blob-store
    links: a link to S3 would be a bearer credential and is blocked by the pages' CSP."""
    return f"/api/v1/proctor/attempts/{attempt_id}/snapshots/{key.rsplit('/', 1)[-1]}"


@router.get(
    "/attempts/{attempt_id}/snapshots/{name}",
    roles=OBSERVERS,
    response_media_type="image/jpeg",
    errors=[ErrorSpec(404, "not_found", "no such snapshot")],
)
async def snapshot(req: ApiRequest) -> web.Response:
    """One stored snapshot of an attempt."""
    attempt_id, name = attempt_path(req), req.path["name"]
    if not SNAPSHOT_NAME.match(name):
        raise NotFound("no such snapshot")
    data = await req.services.blobs.get(f"snapshots/{attempt_id}/{name}")  # NotFound: 404
    return web.Response(
        body=data, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get(
    "/attempts/{attempt_id}/thumbnail",
    roles=OBSERVERS,
    response_media_type="image/jpeg",
    errors=[ErrorSpec(404, "not_found", "no recent thumbnail")],
)
async def thumbnail(req: ApiRequest) -> web.Response:
    """The attempt's newest small camera picture (kept for two minutes)."""
    data = await req.services.cache.get(snapshots.thumb_key(attempt_path(req)))
    if data is None:
        raise NotFound("no recent thumbnail")
    return web.Response(
        body=data, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=5"}
    )


@router.get(
    "/live",
    query=TileQuery,
    roles=OBSERVERS,
    summary="Live wall feed (WebSocket)",
    description="Upgrade to a WebSocket. The server first sends "
    '`{"type": "hello", "tiles": [...]}`, then `tile`, `alert` and `removed` messages as they '
    "happen (docs/proctoring.md). A client too slow to keep up gets "
    '`{"type": "overflow"}` and is closed; it reconnects and gets a fresh hello.',
    errors=[ErrorSpec(403, "forbidden", "the page is on another origin")],
)
async def live(req: ApiRequest[None, TileQuery]) -> web.StreamResponse:
    from plugins.proctoring.plugin import feed_for  # noqa: PLC0415 (the plugin imports us)

    if not same_origin(req.request, req.services.settings.effective_public_url):
        raise ApiError(403, "forbidden", "WebSocket from another origin")
    feed = feed_for(req.services)
    if feed is None:
        raise ApiError(503, "unavailable", "live proctoring is not running in this process")
    subscriber = feed.subscribe(req.query.exam_id)  # before hello: nothing falls in between
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=4096)
    try:
        await ws.prepare(req.request)
        hello = await tiles.current_tiles(req.services, exam_id=req.query.exam_id)
        await ws.send_json({"type": "hello", "tiles": [t.model_dump(mode="json") for t in hello]})
        principal = principal_of(req.request)
        session_id = principal.session_id if principal is not None else None
        await _forward(ws, subscriber, req.services, session_id)
    finally:
        feed.unsubscribe(subscriber)
        if not ws.closed:
            await ws.close()
    return ws


async def _forward(
    ws: web.WebSocketResponse, subscriber: Any, services: Services, session_id: str | None
) -> None:
    """Send the feed until the client leaves, the feed stops, or the proctor's session ends
    (re-checked every few seconds, so a signed-out proctor stops seeing candidates)."""
    receiving: asyncio.Future[Any] = asyncio.ensure_future(ws.receive())
    checked = time.monotonic()
    try:
        while not ws.closed:
            if session_id is not None and time.monotonic() - checked >= SESSION_RECHECK_S:
                checked = time.monotonic()
                if not await sessions.is_active(services, session_id):
                    await ws.close(code=4001, message=b"session ended")
                    return
            getting = asyncio.ensure_future(subscriber.queue.get())
            done, _ = await asyncio.wait(
                {receiving, getting}, timeout=SESSION_RECHECK_S, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                getting.cancel()
                continue
            if receiving in done:
                getting.cancel()
                message = receiving.result()
                if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                    return
                if message.type == WSMsgType.ERROR:
                    return
                receiving = asyncio.ensure_future(ws.receive())  # client chatter is ignored
                continue
            item = getting.result()
            if item.get("type") in ("overflow", "shutdown"):
                await ws.send_json(item)
                await ws.close(code=1013 if item["type"] == "overflow" else 1001)
                return
            await ws.send_json(item)
    finally:
        if not receiving.done():
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiving
