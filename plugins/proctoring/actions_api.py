"""What proctors and reviewers do: intervene in an attempt, decide on violations, re-score.

Every action is committed with its audit row before anyone is told about it: the candidate's
page learns of a pause only once the pause is on record. Decisions re-score the attempt from
the event log at once, so the wall and the review page show the same number.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlmodel import col

from core.channels import ATTEMPT_CONTROL
from core.errors import Conflict, InvalidInput, NotFound
from core.events import Event
from core.policy import Weight, catalogue
from core.scoring import ScoreBreakdown
from core.services import Services
from plugins.accounts import audit
from plugins.exams import store
from plugins.exams.tables import Attempt
from plugins.proctoring import scores, tiles
from plugins.proctoring.proctor_api import (
    NOT_FOUND,
    OBSERVERS,
    ActionPublic,
    ReviewPublic,
    attempt_path,
    to_action,
)
from plugins.proctoring.tables import ProctorAction, ViolationReview, utcnow
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/proctor/attempts/{attempt_id}", tags=["proctoring"])
ActionName = Literal["message", "warn", "pause", "resume", "terminate"]
NEEDS_TEXT = frozenset({"message", "warn", "terminate"})


class ActionIn(BaseModel):
    action: ActionName
    text: str = Field("", max_length=1000, description="the message, warning or reason")

    @model_validator(mode="after")
    def _text(self) -> ActionIn:
        self.text = self.text.strip()
        if self.action in NEEDS_TEXT and not self.text:
            raise ValueError(f"a {self.action} needs a text the candidate will read")
        return self


class ReviewIn(BaseModel):
    decision: Literal["confirmed", "dismissed", "reviewed"]
    note: str = Field("", max_length=2000)


class RecomputeIn(BaseModel):
    weights: dict[str, Weight] = Field(default_factory=dict, max_length=50)
    save: bool = Field(False, description="store the result as the attempt's score")


async def _attempt(services: Services, attempt_id: str) -> Attempt:
    async with services.db.session() as db:
        attempt = await db.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(f"attempt {attempt_id} does not exist")
    return attempt


async def _exam_control(
    services: Services, attempt_id: str, action: str, actor: int, text: str
) -> None:
    from plugins.exams import control  # noqa: PLC0415 (only these three actions need it)

    if action == "pause":
        await control.pause(services, attempt_id, actor_id=actor)
    elif action == "resume":
        await control.resume(services, attempt_id, actor_id=actor)
    elif action == "terminate":
        await control.terminate(services, attempt_id, actor_id=actor, reason=text)


@router.post(
    "/actions",
    body=ActionIn,
    response=ActionPublic,
    status=201,
    roles=OBSERVERS,
    errors=[NOT_FOUND, ErrorSpec(409, "conflict", "the attempt is not in progress")],
)
async def act(req: ApiRequest[ActionIn, None]) -> ActionPublic:
    """Message, warn, pause, resume or terminate an attempt; audited, then sent to the page."""
    services = req.services
    attempt_id = attempt_path(req)
    attempt = await _attempt(services, attempt_id)
    if attempt.status != "in_progress":
        raise Conflict(f"attempt {attempt_id} is {attempt.status}, not in progress")
    actor = store.caller_id(req)
    action, text = req.body.action, req.body.text
    await _exam_control(services, attempt_id, action, actor, text)
    async with services.db.session() as db:
        row = ProctorAction(attempt_id=attempt_id, actor_id=actor, action=action, text=text)
        db.add(row)
        audit.record(
            db,
            f"proctor.{action}",
            user_id=attempt.user_id,
            actor_id=actor,
            request=req.request,
            attempt_id=attempt_id,
            text=text[:200],
        )
        await db.commit()
        await db.refresh(row)
    public = to_action(row)
    if action in ("pause", "resume"):
        await _republish_paused(services, attempt_id, paused=action == "pause")
    message = {
        "attempt_id": attempt_id,
        "action": action,
        "text": text,
        "at": public.at,
        "by": actor,
    }
    await services.bus.publish(ATTEMPT_CONTROL, json.dumps(message).encode())
    await services.events.append(
        [
            Event(
                kind=f"proctor.{action}",
                ts=datetime.fromtimestamp(public.at, UTC),
                attempt_id=attempt_id,
                source="proctoring",
                data={"actor_id": actor, "text": text},
            )
        ]
    )
    return public


@router.put(
    "/violations/{violation_id}/review",
    body=ReviewIn,
    response=ReviewPublic,
    roles=OBSERVERS,
    errors=[ErrorSpec(404, "not_found", "no such attempt or violation")],
)
async def review(req: ApiRequest[ReviewIn, None]) -> ReviewPublic:
    """Confirm, dismiss or mark a violation reviewed, with a note; the score follows."""
    services = req.services
    attempt_id = attempt_path(req)
    violation_id = req.path["violation_id"][:64]
    attempt = await _attempt(services, attempt_id)
    known = {v.id for v in await scores.load_violations(services, attempt_id)}
    if violation_id not in known:
        raise NotFound(f"attempt {attempt_id} has no violation {violation_id}")
    reviewer = store.caller_id(req)

    async with services.db.session() as db:
        row = (
            await db.execute(
                select(ViolationReview).where(
                    col(ViolationReview.attempt_id) == attempt_id,
                    col(ViolationReview.violation_id) == violation_id,
                )
            )
        ).scalar_one_or_none()
        if row is None:
            row = ViolationReview(attempt_id=attempt_id, violation_id=violation_id, decision="")
        row.decision = req.body.decision
        row.note = req.body.note
        row.reviewer_id = reviewer
        row.decided_at = utcnow()
        db.add(row)
        audit.record(
            db,
            "violation.reviewed",
            user_id=attempt.user_id,
            actor_id=reviewer,
            request=req.request,
            attempt_id=attempt_id,
            violation_id=violation_id,
            decision=req.body.decision,
        )
        await db.commit()
        await db.refresh(row)
    breakdown = await scores.rescore(services, attempt_id)
    await _republish_score(services, attempt_id, breakdown)
    return ReviewPublic(
        violation_id=violation_id,
        decision=row.decision,
        note=row.note,
        reviewer_id=row.reviewer_id,
        decided_at=row.decided_at.timestamp(),
    )


async def _republish_score(services: Services, attempt_id: str, breakdown: ScoreBreakdown) -> None:
    """Walls see a reviewed score at once, without waiting for the media process."""
    tile = await tiles.cached_tile(services, attempt_id)
    if tile is not None:
        tile.score = breakdown.score
        tile.updated_at = time.time()
        await tiles.publish_tile(services, tile)


async def _republish_paused(services: Services, attempt_id: str, *, paused: bool) -> None:
    """Walls show a pause at once: the live state here and the shared tile are told now
    instead of at the media process's next status read."""
    from plugins.proctoring.plugin import analysis_for  # noqa: PLC0415 (the plugin imports us)

    analysis = analysis_for(services)
    live = analysis.live.attempts.get(attempt_id) if analysis is not None else None
    if live is not None:
        live.paused = paused
    tile = await tiles.cached_tile(services, attempt_id)
    if tile is not None:
        tile.paused = paused
        tile.updated_at = time.time()
        await tiles.publish_tile(services, tile)


@router.post(
    "/score/recompute",
    body=RecomputeIn,
    response=ScoreBreakdown,
    roles=OBSERVERS,
    errors=[NOT_FOUND, ErrorSpec(422, "invalid_input", "a weight names no known rule")],
)
async def recompute(req: ApiRequest[RecomputeIn, None]) -> ScoreBreakdown:
    """The attempt's score with other weights; stored only with ``save``."""
    services = req.services
    attempt_id = attempt_path(req)
    await _attempt(services, attempt_id)

    unknown = sorted(set(req.body.weights) - {r.kind for r in catalogue()})
    if unknown:
        raise InvalidInput(f"unknown rule {', '.join(unknown)}")
    breakdown = await scores.rescore(
        services, attempt_id, weights=req.body.weights, save=req.body.save
    )
    if req.body.save:
        await _republish_score(services, attempt_id, breakdown)
    return breakdown
