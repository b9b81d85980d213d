"""Gaze calibration: the candidate's neutral pose, measured during the system check.

Where "looking at the screen" points depends on the desk: a laptop camera above the screen, an
external monitor with the camera on top, a tall or short candidate. So after the checklist
passed, the check page asks the candidate to look at the centre of the screen for a few
seconds, and this endpoint takes the median of the gaze detector's observations of the check
connection over that time. The median, not the mean: a blink or a glance away in the middle is
outvoted rather than averaged in. The gaze detector subtracts the stored baseline from every
later frame of that candidate's attempts at this exam (``Frame.context["gaze.baseline"]``).

The baseline is kept in the blob store as JSON (``calibration/{exam_id}/{user_id}.json``): it
must outlive the cache and a restart, it is read once per stream (not per frame), and it needs
no table or migration. Calibrating again replaces it. It is optional: an uncalibrated attempt is
judged against a typical pose and its observations say ``calibrated: false``.

The live analysis keeps only the newest observation per connection and detector, so the
endpoint samples that while it waits (the pipeline looks at most every ``min_interval_s``) and
keeps each distinct observation once; nothing else in the analysis path changes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import statistics
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from core.detectors import Observation
from core.errors import NotFound
from core.services import Services
from plugins.exams import store
from plugins.proctoring.signaling import _error
from webapp.routing import ApiRequest, ErrorSpec, Router

log = logging.getLogger(__name__)
router = Router(tags=["proctoring"])

DETECTOR = "gaze"
WINDOW_S = 3.0  # how long the candidate looks at the centre (the page counts it down)
POLL_S = 0.1  # how often the newest observation is read while waiting
FRESH_S = 2.0  # an older observation says nothing about now
MIN_SAMPLES = 3  # distinct observations with a face needed for a median worth keeping
# A "neutral" pose further off than this is not someone looking at their screen (or is someone
# calibrating while looking at their lap, which would hide exactly that later): refused.
MAX_BASELINE_YAW_DEG = 25.0
MAX_BASELINE_PITCH_DEG = 35.0
MAX_BASELINE_GAZE = 0.6


class Baseline(BaseModel):
    """One candidate's neutral pose for one exam (what the gaze detector subtracts)."""

    yaw: float = Field(ge=-90, le=90, description="degrees; > 0 turned to the candidate's left")
    pitch: float = Field(ge=-90, le=90, description="degrees; > 0 looking up")
    gaze_x: float = Field(ge=-1, le=1, description="iris position, > 0 toward the candidate's left")
    gaze_y: float = Field(ge=-1, le=1, description="iris position, > 0 up")
    samples: int = Field(ge=1, description="observations the median was taken over")
    measured_at: datetime


class CalibrationOut(Baseline):
    exam_id: int


def blob_key(exam_id: int, user_id: int) -> str:
    return f"calibration/{exam_id}/{user_id}.json"


async def load_baseline(services: Services, exam_id: int, user_id: int) -> dict[str, float] | None:
    """The stored baseline as the detector's context wants it, or None (none, or unreadable)."""
    try:
        raw = await services.blobs.get(blob_key(exam_id, user_id))
    except NotFound:
        return None
    try:
        stored = Baseline.model_validate(json.loads(raw))
    except (ValueError, ValidationError):
        log.warning("ignored an unreadable gaze calibration of user %s, exam %s", user_id, exam_id)
        return None
    return {
        "yaw": stored.yaw,
        "pitch": stored.pitch,
        "gaze_x": stored.gaze_x,
        "gaze_y": stored.gaze_y,
    }


async def save_baseline(services: Services, exam_id: int, user_id: int, baseline: Baseline) -> None:
    data = baseline.model_dump_json().encode()
    await services.blobs.put(blob_key(exam_id, user_id), data, content_type="application/json")


def usable(observation: Observation | None, now: float) -> bool:
    """A fresh, uncalibrated gaze observation of a face with every angle measured."""
    if observation is None or now - observation.ts > FRESH_S:
        return False
    values = observation.values
    if values.get("face") is not True or values.get("calibrated") is True:
        return False
    return all(_number(values.get(key)) for key in ("yaw", "pitch", "gaze_x", "gaze_y"))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def median_baseline(observations: Iterable[Observation], now: datetime) -> Baseline | None:
    """The per-field median of the observations, or None when there are too few."""
    rows = list(observations)
    if len(rows) < MIN_SAMPLES:
        return None

    def median(key: str) -> float:
        return round(float(statistics.median(float(o.values[key]) for o in rows)), 3)

    return Baseline(
        yaw=median("yaw"),
        pitch=median("pitch"),
        gaze_x=median("gaze_x"),
        gaze_y=median("gaze_y"),
        samples=len(rows),
        measured_at=now,
    )


def centred(baseline: Baseline) -> bool:
    """Whether the pose is one of someone looking at their screen (see the limits above)."""
    return (
        abs(baseline.yaw) <= MAX_BASELINE_YAW_DEG
        and abs(baseline.pitch) <= MAX_BASELINE_PITCH_DEG
        and abs(baseline.gaze_x) <= MAX_BASELINE_GAZE
        and abs(baseline.gaze_y) <= MAX_BASELINE_GAZE
    )


async def sample(read: Callable[[], Observation | None], window_s: float) -> list[Observation]:
    """Every distinct usable observation ``read()`` returns over ``window_s`` seconds."""
    loop = asyncio.get_running_loop()
    started = time.time()
    deadline = loop.time() + window_s
    seen: dict[float, Observation] = {}
    while True:
        observation = read()
        if (
            observation is not None
            and observation.ts >= started
            and usable(observation, time.time())
        ):
            seen.setdefault(observation.ts, observation)
        if loop.time() >= deadline:
            return list(seen.values())
        await asyncio.sleep(POLL_S)


@router.post(
    "/api/v1/exams/{exam_id}/rtc/check/calibrate",
    response=CalibrationOut,
    roles=store.CANDIDATE,
    errors=[
        ErrorSpec(404, "not_found", "no such exam, or it is not assigned to me"),
        ErrorSpec(409, "not_ready", "the check connection shows no face to calibrate on"),
        ErrorSpec(409, "not_centered", "the pose measured is not one of looking at the screen"),
        ErrorSpec(409, "gaze_unavailable", "no gaze detector runs on this server"),
    ],
)
async def calibrate(req: ApiRequest) -> CalibrationOut | web.Response:
    """Measure my neutral gaze while I look at the centre of the screen (takes ~3 s).

    Call it while the system check is connected and shows my face; it waits about three
    seconds, takes the median of what the gaze detector saw and stores it for this exam.
    Starting the exam does not require it.
    """
    from plugins.proctoring.candidate_api import check_key  # noqa: PLC0415 (it imports us)
    from plugins.proctoring.plugin import analysis_for  # noqa: PLC0415 (plugin imports us)

    exam_id = store.path_int(req, "exam_id")
    user_id = store.caller_id(req)
    async with req.services.db.session() as db:
        await store.candidate_exam(db, exam_id, user_id)
    analysis = analysis_for(req.services)
    if analysis is None or DETECTOR not in analysis.pipeline.detectors:
        message = "gaze is not measured on this server; no calibration is needed"
        return _error(409, "gaze_unavailable", message, req.request_id)
    key = check_key(exam_id, user_id)
    if not usable(analysis.latest(key, DETECTOR), time.time()):
        message = "your face is not seen yet: wait until the check shows it, then try again"
        return _error(409, "not_ready", message, req.request_id)
    samples = await sample(lambda: analysis.latest(key, DETECTOR), WINDOW_S)
    baseline = median_baseline(samples, datetime.now(UTC))
    if baseline is None:
        message = "your face was not seen for long enough: face the camera and try again"
        return _error(409, "not_ready", message, req.request_id)
    if not centred(baseline):
        message = "look at the centre of the screen (not elsewhere) and try again"
        return _error(409, "not_centered", message, req.request_id)
    await save_baseline(req.services, exam_id, user_id, baseline)
    return CalibrationOut(exam_id=exam_id, **baseline.model_dump())
