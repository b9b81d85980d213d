"""The suspicion score: per-violation points with their formula, capped sums, dismissals and
the series drawn on the review chart."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from core.policy import ProctoringPolicy, Weight
from core.rules import Violation
from core.scoring import MAX_SCORE, points, score, series

WEIGHTS = ProctoringPolicy().weights()  # the catalogue's: no_face 10 + 20/min, max 40; …
LABELS = {
    "no_face": ("No face", "high"),
    "multiple_faces": ("Several faces", "high"),
    "camera_off": ("Camera off", "medium"),
    "tab_hidden": ("Left the exam tab", "medium"),
    "clipboard": ("Copy or paste", "low"),
    "gaze": ("Looked away", "low"),
}


def violation(kind: str, started_at: float, ended_at: float | None, **rest: Any) -> Violation:
    label, severity = LABELS[kind]
    return Violation(
        attempt_id="a",
        kind=kind,
        detector="test",
        label=label,
        severity=severity,
        started_at=started_at,
        ended_at=ended_at,
        **rest,
    )


# -- one violation ------------------------------------------------------------------------------


def test_a_state_violation_is_weight_plus_per_minute() -> None:
    value, formula = points(violation("no_face", 100, 112), WEIGHTS["no_face"])
    assert value == 14.0  # 10 + 20 x 0.2
    assert formula == "10 + 20/min x 0.20 min = 14"


def test_a_long_violation_is_capped_at_max_points() -> None:
    value, formula = points(violation("no_face", 0, 600), WEIGHTS["no_face"])
    assert value == 40
    assert formula == "10 + 20/min x 10.00 min, capped at 40 = 40"


def test_points_are_rounded_to_two_decimals_and_the_formula_agrees() -> None:
    value, formula = points(violation("no_face", 0, 13), WEIGHTS["no_face"])
    assert value == 14.33  # 10 + 20 x 13/60
    assert formula.endswith("= 14.33")


@pytest.mark.parametrize(
    ("count", "expected", "formula"),
    [
        (1, 3, "3 = 3"),
        (3, 9, "3 x 3 = 9"),
        (6, 15, "3 x 6, capped at 15 = 15"),
    ],
)
def test_an_instant_violation_is_weight_times_count(
    count: int, expected: float, formula: str
) -> None:
    pasted = violation("clipboard", 50, 80, count=count)
    assert points(pasted, WEIGHTS["clipboard"]) == (expected, formula)


def test_a_state_rule_without_per_minute_is_its_weight() -> None:
    flat = Weight(weight=10, per_minute=0, max_points=40)
    assert points(violation("no_face", 0, 300), flat) == (10, "10 = 10")


def test_an_open_violation_counts_up_to_now() -> None:
    open_ = violation("no_face", 100, None)
    assert points(open_, WEIGHTS["no_face"], now=130)[0] == 20  # 10 + 20 x 0.5
    assert points(open_, WEIGHTS["no_face"], now=160)[0] == 30
    assert points(open_, WEIGHTS["no_face"])[0] == 10  # no now: it just started


# -- the sum ------------------------------------------------------------------------------------


def test_the_score_lists_every_contribution() -> None:
    nobody = violation("no_face", 100, 112)
    pasted = violation("clipboard", 200, 220, count=2)
    breakdown = score([nobody, pasted], WEIGHTS, now=300)
    assert breakdown.score == 20.0
    assert [c.violation_id for c in breakdown.contributions] == [nobody.id, pasted.id]
    first, second = breakdown.contributions
    assert (first.kind, first.label, first.severity) == ("no_face", "No face", "high")
    assert (first.started_at, first.duration_s, first.count, first.points) == (100, 12, 1, 14)
    assert (second.count, second.points, second.formula) == (2, 6, "3 x 2 = 6")
    assert breakdown.excluded == []
    assert breakdown.weights == WEIGHTS
    assert breakdown.computed_at == 300


def test_no_violations_score_zero() -> None:
    breakdown = score([], WEIGHTS, now=5)
    assert (breakdown.score, breakdown.contributions, breakdown.excluded) == (0, [], [])


def test_the_score_is_capped_at_100() -> None:
    heavy = [
        violation("multiple_faces", 0, 600),  # 50
        violation("no_face", 700, 1300),  # 40
        violation("camera_off", 1400, 2000),  # 30
    ]
    breakdown = score(heavy, WEIGHTS, now=3000)
    assert breakdown.score == MAX_SCORE == 100
    assert sum(c.points for c in breakdown.contributions) == 120  # every share still shown


def test_the_score_is_rounded_to_one_decimal() -> None:
    breakdown = score(
        [violation("no_face", 0, 13), violation("clipboard", 20, 20)], WEIGHTS, now=30
    )
    assert [c.points for c in breakdown.contributions] == [14.33, 3]
    assert breakdown.score == 17.3


def test_dismissed_violations_are_listed_and_add_nothing() -> None:
    kept = violation("no_face", 100, 112)
    dismissed = violation("multiple_faces", 200, 260)
    breakdown = score([kept, dismissed], WEIGHTS, dismissed=[dismissed.id, "not-here"], now=300)
    assert breakdown.score == 14.0
    assert [c.violation_id for c in breakdown.contributions] == [kept.id]
    assert breakdown.excluded == [dismissed.id]
    everything = score([kept, dismissed], WEIGHTS, now=300)
    assert everything.score == 14.0 + 35.0  # 15 + 20 x 1


def test_kinds_without_a_weight_are_ignored() -> None:
    looked = violation("gaze", 0, 600)
    breakdown = score([looked, violation("no_face", 0, 12)], WEIGHTS, dismissed=[looked.id])
    assert [c.kind for c in breakdown.contributions] == ["no_face"]
    assert breakdown.excluded == []
    assert breakdown.score == 14.0


def test_open_violations_are_scored_up_to_now() -> None:
    open_ = violation("tab_hidden", 1000, None)
    assert score([open_], WEIGHTS, now=1000).score == 5
    assert score([open_], WEIGHTS, now=1060).score == 15
    assert score([open_], WEIGHTS, now=1060).contributions[0].duration_s == 60
    assert score([open_], WEIGHTS, now=99999).score == 30


def test_recompute_with_other_weights() -> None:
    found = [violation("no_face", 0, 30), violation("clipboard", 40, 50, count=2)]
    default = score(found, WEIGHTS, now=60)
    heavier = {**WEIGHTS, "no_face": Weight(weight=50, per_minute=0, max_points=60)}
    other = score(found, heavier, now=60)
    assert default.score == 26.0  # 10 + 20 x 0.5, 3 x 2
    assert other.score == 56.0  # 50, 3 x 2
    assert other.weights["no_face"].weight == 50
    only_no_face = score(found, {"no_face": WEIGHTS["no_face"]}, now=60)
    assert only_no_face.score == 20.0


def test_policy_overrides_change_the_score() -> None:
    policy = ProctoringPolicy.model_validate(
        {"rules": {"no_face": {"weight": 15, "per_minute": 0, "max_points": 15}}}
    )
    assert score([violation("no_face", 0, 300)], policy.weights()).score == 15


# -- the series ---------------------------------------------------------------------------------


def test_series_steps_through_starts_and_ends_up_to_until() -> None:
    found = [
        violation("no_face", 100, 160),
        violation("clipboard", 130, 150, count=2),
        violation("tab_hidden", 200, None),
    ]
    points_ = series(found, WEIGHTS, until=260)
    assert points_ == [
        (100, 10.0),  # no_face starts: its weight
        (130, 26.0),  # half a minute of no_face (20), two pastes (6)
        (150, 32.7),  # 50 s of no_face (26.67), the pastes (6)
        (160, 36.0),  # no_face ends at a minute: 30
        (200, 41.0),  # tab_hidden starts: 5
        (260, 51.0),  # a minute hidden: 15
    ]
    assert points_[-1][1] == score(found, WEIGHTS, now=260).score


def test_series_of_nothing_is_one_zero_at_until() -> None:
    assert series([], WEIGHTS, until=50) == [(50, 0.0)]


def test_series_skips_dismissed_violations() -> None:
    nobody = violation("no_face", 100, 160)
    pasted = violation("clipboard", 130, 130)
    values = series([nobody, pasted], WEIGHTS, dismissed=[nobody.id], until=200)
    assert values == [(100, 0.0), (130, 3.0), (160, 3.0), (200, 3.0)]


def test_series_stops_at_until() -> None:
    later = violation("no_face", 500, 600)
    running = violation("no_face", 100, 400)
    values = series([running, later], WEIGHTS, until=160)
    assert values == [(100, 10.0), (160, 30.0)]  # running counted as open until 160


@pytest.mark.parametrize("seed", range(25))
def test_series_never_goes_down_and_ends_at_until(seed: int) -> None:
    rng = random.Random(seed)
    found: list[Violation] = []
    for _ in range(rng.randint(0, 12)):
        kind = rng.choice(["no_face", "multiple_faces", "camera_off", "tab_hidden", "clipboard"])
        start = rng.uniform(0, 1000)
        if kind == "clipboard":
            found.append(
                violation(kind, start, start + rng.uniform(0, 60), count=rng.randint(1, 7))
            )
        else:
            end = None if rng.random() < 0.2 else start + rng.uniform(0, 400)
            found.append(violation(kind, start, end))
    dismissed = [v.id for v in found if rng.random() < 0.25]
    until = rng.uniform(500, 1600)
    values = series(found, WEIGHTS, dismissed=dismissed, until=until)
    assert values[-1][0] == until
    times = [t for t, _ in values]
    assert times == sorted(set(times))
    assert all(0 <= v <= MAX_SCORE for _, v in values)
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(values))
    if all(v.ended_at is not None and v.ended_at <= until for v in found):
        assert values[-1][1] == score(found, WEIGHTS, dismissed=dismissed, now=until).score
