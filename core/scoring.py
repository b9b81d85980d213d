"""The suspicion score: a capped sum of per-violation points, every term shown.

A proctor who sees "72" must be able to ask "why?" and get an answer a candidate could contest:
so the score is a plain sum, each violation's share is listed with the arithmetic that produced
it, and a reviewer's dismissal removes that share visibly instead of silently. The weights are
inputs, not constants, so the same violations can be re-scored after the exam with the weights
an exam board agrees on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, Field

from core.policy import Weight
from core.rules import Violation

MAX_SCORE = 100.0


class Contribution(BaseModel):
    violation_id: str
    kind: str
    label: str
    severity: str
    started_at: float
    duration_s: float
    count: int
    points: float
    formula: str = Field(description="how the points were reached, in words")


class ScoreBreakdown(BaseModel):
    score: float = Field(ge=0, le=MAX_SCORE)
    contributions: list[Contribution] = Field(default_factory=list)
    excluded: list[str] = Field(default_factory=list, description="dismissed violation ids")
    weights: dict[str, Weight] = Field(default_factory=dict)
    computed_at: float | None = None


def points(violation: Violation, weight: Weight, now: float | None = None) -> tuple[float, str]:
    """The points of one violation and the formula that gave them."""
    if violation.count > 1 or weight.per_minute == 0:
        raw = weight.weight * violation.count
        formula = f"{weight.weight:g}"
        if violation.count > 1:
            formula += f" x {violation.count}"
    else:
        minutes = violation.duration_s(now) / 60
        raw = weight.weight + weight.per_minute * minutes
        formula = f"{weight.weight:g} + {weight.per_minute:g}/min x {minutes:.2f} min"
    value = round(min(raw, weight.max_points), 2)
    if raw > weight.max_points:
        formula += f", capped at {weight.max_points:g}"
    return value, f"{formula} = {value:g}"  # the same number as the points it explains


def score(
    violations: Iterable[Violation],
    weights: Mapping[str, Weight],
    *,
    dismissed: Iterable[str] = (),
    now: float | None = None,
) -> ScoreBreakdown:
    """Score ``violations``; kinds without a weight add nothing and are not listed."""
    excluded = set(dismissed)
    contributions: list[Contribution] = []
    skipped: list[str] = []
    for violation in violations:
        weight = weights.get(violation.kind)
        if weight is None:
            continue
        if violation.id in excluded:
            skipped.append(violation.id)
            continue
        value, formula = points(violation, weight, now)
        contributions.append(
            Contribution(
                violation_id=violation.id,
                kind=violation.kind,
                label=violation.label,
                severity=violation.severity,
                started_at=violation.started_at,
                duration_s=round(violation.duration_s(now), 1),
                count=violation.count,
                points=value,
                formula=formula,
            )
        )
    total = min(MAX_SCORE, sum(c.points for c in contributions))
    return ScoreBreakdown(
        score=round(total, 1),
        contributions=contributions,
        excluded=skipped,
        weights=dict(weights),
        computed_at=now,
    )


def series(
    violations: Sequence[Violation],
    weights: Mapping[str, Weight],
    *,
    dismissed: Iterable[str] = (),
    until: float,
) -> list[tuple[float, float]]:
    """The score over time, for the review chart: the score as it stood at each violation's
    start and end and at ``until``. Between two points the score of closed violations is flat
    and that of open ones grows, so a chart should draw each change as a step."""
    excluded = set(dismissed)
    moments: set[float] = {until}
    for violation in violations:
        moments.add(violation.started_at)
        if violation.ended_at is not None:
            moments.add(violation.ended_at)
    points_: list[tuple[float, float]] = []
    for moment in sorted(m for m in moments if m <= until):
        visible = [_as_of(v, moment) for v in violations if v.started_at <= moment]
        value = score(visible, weights, dismissed=excluded, now=moment).score
        points_.append((moment, value))
    return points_


def _as_of(violation: Violation, moment: float) -> Violation:
    """The violation as it stood at ``moment`` (open if it ended later)."""
    if violation.ended_at is not None and violation.ended_at > moment:
        return violation.model_copy(update={"ended_at": None})
    return violation
