"""The rules engine: observations, telemetry and stream state in, violations out.

Everything here is pure: the engine is handed ``ts``/``now`` and never reads a clock, so each
test spells out a timeline and checks the changes it gives.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from core.policy import DEFAULT_RULES, Condition, ProctoringPolicy, Rule
from core.rules import AttemptRules, RuleChange, Violation, fold, worst

FACE = "observation.face"
CATALOGUE = {rule.kind: rule for rule in DEFAULT_RULES}


def rule(kind: str, **changes: Any) -> Rule:
    return CATALOGUE[kind].model_copy(update=changes)


def engine(*rules: Rule | str) -> AttemptRules:
    chosen = [rule(r) if isinstance(r, str) else r for r in rules] or list(DEFAULT_RULES)
    return AttemptRules("attempt-1", chosen)


def frames(
    rules: AttemptRules, start: float, stop: float, count: int, fps: float = 2.0
) -> list[RuleChange]:
    """Face observations from ``start`` up to (not including) ``stop`` at ``fps``."""
    changes: list[RuleChange] = []
    step = 1 / fps
    n = round((stop - start) / step)
    for i in range(n):
        changes += rules.feed(FACE, start + i * step, {"count": count})
    return changes


def brief(changes: Iterable[RuleChange]) -> list[tuple[str, str, float, float | None]]:
    return [
        (c.type, c.violation.kind, c.violation.started_at, c.violation.ended_at) for c in changes
    ]


# -- state rules: min_duration -----------------------------------------------------------------


def test_a_one_frame_blip_never_starts_a_violation() -> None:
    rules = engine("no_face", "multiple_faces")
    changes = frames(rules, 0, 10, count=1)
    changes += rules.feed(FACE, 10.0, {"count": 0})
    changes += rules.feed(FACE, 10.5, {"count": 3})
    changes += frames(rules, 11, 30, count=1)
    for now in (12, 20, 40):
        changes += rules.tick(now)
    changes += rules.close(60)
    assert changes == []
    assert rules.open_violations() == []


def test_a_condition_held_long_enough_starts_at_its_first_sample() -> None:
    rules = engine("no_face")  # min 5 s
    assert frames(rules, 0, 10, count=1) == []
    assert frames(rules, 10, 15, count=0) == []  # 10.0 … 14.5: 4.5 s held, not yet
    started = rules.feed(FACE, 15.0, {"count": 0})
    assert brief(started) == [("started", "no_face", 10.0, None)]
    violation = started[0].violation
    assert violation.attempt_id == "attempt-1"
    assert (violation.detector, violation.label, violation.severity) == ("face", "No face", "high")
    assert violation.evidence == {"count": 0}
    assert violation.text == "no face"
    assert violation.count == 1
    assert rules.open_violations() == [violation]
    # still absent: nothing more to say
    assert frames(rules, 15.5, 30, count=0) == []


def test_min_duration_override_changes_when_it_starts() -> None:
    rules = engine(rule("no_face", min_duration_s=1))
    assert frames(rules, 0, 1, count=0) == []
    assert brief(rules.feed(FACE, 1.0, {"count": 0})) == [("started", "no_face", 0.0, None)]


def test_an_absence_interrupted_for_longer_than_the_gap_restarts_the_count() -> None:
    rules = engine("no_face")  # min 5 s, gap 2 s
    changes = frames(rules, 0, 4, count=0)  # 3.5 s
    changes += frames(rules, 4.0, 6.5, count=1)  # a face for 2.5 s: longer than the gap
    changes += frames(rules, 6.5, 11, count=0)  # 4.0 s
    changes += frames(rules, 11.0, 13.5, count=1)
    assert changes == []
    changes = frames(rules, 20, 26, count=0)
    assert brief(changes) == [("started", "no_face", 20.0, None)]


def test_a_blip_shorter_than_the_gap_does_not_restart_the_count() -> None:
    """One face frame inside an absence is a detection blip, before the violation as after."""
    rules = engine("no_face")  # min 5 s, gap 2 s
    changes = frames(rules, 0, 3, count=0)
    changes += rules.feed(FACE, 3.0, {"count": 1})  # 0.5 s of face
    changes += frames(rules, 3.5, 6, count=0)
    assert brief(changes) == [("started", "no_face", 0.0, None)]


def test_talking_with_pauses_between_sentences_is_sustained_talking() -> None:
    talking = rule("no_face").model_copy(
        update={
            "kind": "talking",
            "detector": "audio",
            "sources": ("observation.audio",),
            "when": Condition(field="speech", value=True),
        }
    )
    rules = engine(talking)  # min 5 s, gap 2 s, like the audio plugin's rule
    changes: list[RuleChange] = []
    for step in range(24):  # 12 s at 2 per second, a 0.5 s pause every 3.5 s
        ts = step * 0.5
        speaking = step % 7 != 6
        changes += rules.feed("observation.audio", ts, {"speech": speaking})
    assert brief(changes)[:1] == [("started", "talking", 0.0, None)]


# -- state rules: gap debounce -----------------------------------------------------------------


def test_one_face_frame_inside_a_long_absence_does_not_split_it() -> None:
    rules = engine("no_face")  # gap 2 s
    changes = frames(rules, 0, 20, count=0)
    changes += rules.feed(FACE, 20.0, {"count": 1})
    changes += frames(rules, 20.5, 25, count=0)
    changes += frames(rules, 25, 26.5, count=1)  # 1.5 s of face: still shorter than the gap
    changes += frames(rules, 26.5, 40, count=0)
    changes += rules.tick(40)
    assert brief(changes) == [("started", "no_face", 0.0, None)]


def test_a_gap_longer_than_gap_s_ends_it_at_the_first_false_sample() -> None:
    rules = engine("no_face")
    frames(rules, 0, 40, count=0)
    assert frames(rules, 40, 42, count=1) == []  # 40.0 … 41.5: 1.5 s clear
    ended = rules.feed(FACE, 42.0, {"count": 1})
    assert brief(ended) == [("ended", "no_face", 0.0, 40.0)]
    assert ended[0].violation.text == "no face 40 s"
    assert rules.open_violations() == []
    # the next absence is a new violation with a new id
    again = frames(rules, 50, 56, count=0)
    assert brief(again) == [("started", "no_face", 50.0, None)]
    assert again[0].violation.id != ended[0].violation.id


def test_gap_override_zero_ends_at_once() -> None:
    rules = engine(rule("no_face", gap_s=0))
    frames(rules, 0, 10, count=0)
    assert brief(rules.feed(FACE, 10.0, {"count": 1})) == [("ended", "no_face", 0.0, 10.0)]


def test_the_started_change_is_a_snapshot_not_the_live_object() -> None:
    rules = engine("no_face")
    started = frames(rules, 0, 6, count=0)
    ended = frames(rules, 6, 9, count=1)
    assert started[0].violation.ended_at is None
    assert started[0].violation.text == "no face"
    assert ended[0].violation.id == started[0].violation.id
    assert ended[0].violation.ended_at == 6.0


# -- state rules: time passing -------------------------------------------------------------------


def test_tick_starts_a_violation_from_time_passing() -> None:
    rules = engine(rule("tab_hidden", min_duration_s=3))
    assert rules.feed("telemetry.visibility", 100.0, {"state": "hidden"}) == []
    assert rules.tick(101) == []
    assert rules.tick(102.9) == []
    started = rules.tick(103)
    assert brief(started) == [("started", "tab_hidden", 100.0, None)]
    assert started[0].violation.evidence == {"state": "hidden"}
    assert rules.tick(200) == []  # started once
    ended = rules.feed("telemetry.visibility", 250.0, {"state": "visible"})
    assert brief(ended) == [("ended", "tab_hidden", 100.0, 250.0)]
    assert ended[0].violation.text == "left the exam tab 2 min"


def test_tab_hidden_with_defaults_starts_at_once() -> None:
    rules = engine("tab_hidden")  # min 0, gap 0
    assert brief(rules.feed("telemetry.visibility", 5.0, {"state": "hidden"})) == [
        ("started", "tab_hidden", 5.0, None)
    ]
    assert brief(rules.feed("telemetry.visibility", 9.0, {"state": "visible"})) == [
        ("ended", "tab_hidden", 5.0, 9.0)
    ]


def test_an_event_source_never_goes_stale() -> None:
    """A tab hidden for over an hour sends no event in between: still one long violation."""
    rules = engine("tab_hidden")
    rules.feed("telemetry.visibility", 0.0, {"state": "hidden"})
    for now in range(60, 7200, 60):
        assert rules.tick(now) == []
    ended = rules.feed("telemetry.visibility", 7200.0, {"state": "visible"})
    assert brief(ended) == [("ended", "tab_hidden", 0.0, 7200.0)]
    assert ended[0].violation.text == "left the exam tab 2.0 h"


def test_tick_ends_a_violation_after_the_gap() -> None:
    rules = engine(rule("tab_hidden", gap_s=5))
    rules.feed("telemetry.visibility", 0.0, {"state": "hidden"})
    assert rules.feed("telemetry.visibility", 10.0, {"state": "visible"}) == []
    assert rules.tick(14.9) == []
    assert brief(rules.tick(15)) == [("ended", "tab_hidden", 0.0, 10.0)]


def test_tick_ends_a_sampled_violation_after_the_gap() -> None:
    rules = engine("no_face")
    frames(rules, 0, 30, count=0)
    frames(rules, 30, 31.5, count=1)  # 30, 30.5, 31
    assert rules.tick(31.9) == []
    assert brief(rules.tick(32)) == [("ended", "no_face", 0.0, 30.0)]


def test_a_blur_long_enough_counts_whenever_the_ticks_ran() -> None:
    """A 2.4 s blur (min 2 s) counts even when no tick fell between 2 s and the focus."""
    for ticks in ([], [0.5, 1.5], [1.0, 2.0], [0.1, 0.2, 2.3]):
        rules = engine("window_blur")
        changes = rules.feed("telemetry.blur", 0.0, {})
        for now in ticks:
            changes += rules.tick(now)
        changes += rules.feed("telemetry.focus", 2.4, {})
        assert brief(changes) == [
            ("started", "window_blur", 0.0, None),
            ("ended", "window_blur", 0.0, 2.4),
        ], ticks


# -- state rules: stale samples ----------------------------------------------------------------


def test_a_quiet_sampled_source_ends_the_violation_at_its_last_sample() -> None:
    rules = engine("no_face")  # stale after 5 s
    frames(rules, 0, 20.5, count=0)  # last sample at 20.0
    assert rules.tick(24) == []
    assert rules.tick(25) == []  # exactly stale_s: not yet
    ended = rules.tick(25.5)
    assert brief(ended) == [("ended", "no_face", 0.0, 20.0)]
    assert rules.tick(100) == []


def test_nothing_starts_from_stale_data() -> None:
    rules = engine("no_face")
    frames(rules, 0, 3.5, count=0)  # 0 … 3.0: held 3 s, then the samples stop
    changes: list[RuleChange] = []
    for now in (4, 5, 6, 7, 8, 9, 30):
        changes += rules.tick(now)
    changes += rules.close(40)
    assert changes == []


def test_samples_resuming_after_a_quiet_spell_start_a_new_run() -> None:
    """Without any tick between them, the quiet spell still separates the two runs."""
    rules = engine("no_face")
    assert frames(rules, 0, 3.5, count=0) == []
    changes = frames(rules, 20, 26, count=0)
    assert brief(changes) == [("started", "no_face", 20.0, None)]


def test_an_open_violation_ends_at_the_last_sample_when_samples_resume_late() -> None:
    rules = engine("no_face")
    started = frames(rules, 0, 10.5, count=0)  # last sample 10.0
    changes = frames(rules, 40, 46, count=0)
    assert brief(started + changes) == [
        ("started", "no_face", 0.0, None),
        ("ended", "no_face", 0.0, 10.0),
        ("started", "no_face", 40.0, None),
    ]
    assert changes[0].violation.id != changes[1].violation.id


def test_a_slow_gap_ending_on_a_quiet_source_keeps_the_first_false_sample() -> None:
    rules = engine("no_face")
    frames(rules, 0, 10, count=0)
    rules.feed(FACE, 10.0, {"count": 1})  # clearing since 10, then silence
    assert brief(rules.tick(16)) == [("ended", "no_face", 0.0, 10.0)]


# -- close -----------------------------------------------------------------------------------


def test_close_ends_what_is_open_at_ts() -> None:
    rules = engine("no_face", "tab_hidden")
    frames(rules, 0, 10, count=0)
    rules.feed("telemetry.visibility", 8.0, {"state": "hidden"})
    closed = rules.close(10.2)
    assert sorted(brief(closed)) == [
        ("ended", "no_face", 0.0, 10.2),
        ("ended", "tab_hidden", 8.0, 10.2),
    ]
    assert rules.open_violations() == []
    assert rules.close(11) == []
    # the engine is reset: a face now ends nothing
    assert rules.feed(FACE, 12.0, {"count": 1}) == []


def test_close_while_clearing_ends_at_the_first_false_sample() -> None:
    rules = engine("no_face")
    frames(rules, 0, 30, count=0)
    rules.feed(FACE, 30.0, {"count": 1})
    assert brief(rules.close(30.5)) == [("ended", "no_face", 0.0, 30.0)]


def test_close_leaves_a_condition_that_held_too_briefly_alone() -> None:
    rules = engine("no_face", "window_blur")
    frames(rules, 0, 3, count=0)
    rules.feed("telemetry.blur", 2.0, {})
    assert rules.close(3.0) == []


def test_close_counts_an_event_condition_that_held_long_enough() -> None:
    rules = engine("window_blur")
    rules.feed("telemetry.blur", 0.0, {})
    assert brief(rules.close(5.0)) == [
        ("started", "window_blur", 0.0, None),
        ("ended", "window_blur", 0.0, 5.0),
    ]


# -- the state rules of the catalogue ---------------------------------------------------------


@pytest.mark.parametrize("count", [2, 3, 7])
def test_multiple_faces_needs_two_or_more(count: int) -> None:
    rules = engine("no_face", "multiple_faces")  # min 2 s
    changes = frames(rules, 0, 2.5, count=count)
    assert brief(changes) == [("started", "multiple_faces", 0.0, None)]
    assert changes[0].violation.evidence == {"count": count}
    assert changes[0].violation.label == "Several faces"
    assert frames(rules, 2.5, 10, count=count) == []
    ended = frames(rules, 10, 13, count=1)
    assert brief(ended) == [("ended", "multiple_faces", 0.0, 10.0)]


def test_one_face_is_no_violation() -> None:
    rules = engine()
    assert frames(rules, 0, 60, count=1) == []
    assert rules.close(60) == []


def test_camera_off_from_stream_state() -> None:
    rules = engine("camera_off")  # min 10 s, gap 2 s
    changes: list[RuleChange] = []
    for t in range(10):
        changes += rules.feed("stream.state", float(t), {"video": False})
    assert changes == []
    started = rules.feed("stream.state", 10.0, {"video": False})
    assert brief(started) == [("started", "camera_off", 0.0, None)]
    assert started[0].violation.evidence == {"video": False}
    assert rules.feed("stream.state", 11.0, {"video": True}) == []
    assert rules.feed("stream.state", 12.0, {"video": True}) == []
    assert brief(rules.feed("stream.state", 13.0, {"video": True})) == [
        ("ended", "camera_off", 0.0, 11.0)
    ]


def test_video_flowing_never_starts_camera_off() -> None:
    rules = engine("camera_off")
    changes: list[RuleChange] = []
    for t in range(100):
        changes += rules.feed("stream.state", float(t), {"video": True})
        changes += rules.tick(t + 0.5)
    assert changes == []


def test_window_blur_is_ended_by_focus() -> None:
    rules = engine("window_blur")  # min 2 s, gap 0
    assert rules.feed("telemetry.blur", 0.0, {}) == []
    assert rules.tick(1) == []
    assert brief(rules.tick(2)) == [("started", "window_blur", 0.0, None)]
    assert rules.feed("telemetry.blur", 5.0, {}) == []  # another blur: same violation
    ended = rules.feed("telemetry.focus", 7.0, {})
    assert brief(ended) == [("ended", "window_blur", 0.0, 7.0)]
    assert ended[0].violation.text == "another window 7 s"


def test_a_short_blur_is_forgiven() -> None:
    rules = engine("window_blur")
    changes = rules.feed("telemetry.blur", 0.0, {})
    changes += rules.tick(1)
    changes += rules.feed("telemetry.focus", 1.5, {})
    changes += rules.tick(10)
    assert changes == []


def test_kind_field_matches_the_event_kind_not_a_value() -> None:
    """window_blur's condition is on ``$kind``: a focus event carrying a ``$kind`` value
    cannot pretend to be a blur."""
    rules = engine(rule("window_blur", min_duration_s=0))
    assert rules.feed("telemetry.focus", 0.0, {"$kind": "telemetry.blur"}) == []
    assert brief(rules.feed("telemetry.blur", 1.0, {})) == [("started", "window_blur", 1.0, None)]


def test_events_no_rule_listens_to_are_ignored() -> None:
    rules = engine()
    assert rules.feed("observation.gaze", 0.0, {"count": 0}) == []
    assert rules.feed("telemetry.keypress", 0.0, {}) == []
    assert "observation.face" in rules.sources
    assert "telemetry.focus" in rules.sources
    assert "observation.gaze" not in rules.sources


def test_sources_only_of_the_rules_given() -> None:
    assert engine("clipboard").sources == frozenset({"telemetry.copy", "telemetry.paste"})


# -- instant rules -----------------------------------------------------------------------------


def test_each_occurrence_is_a_violation_and_repeats_within_merge_s_fold_in() -> None:
    rules = engine("clipboard")  # merge 30 s
    first = rules.feed("telemetry.copy", 0.0, {})
    assert brief(first) == [("started", "clipboard", 0.0, 0.0)]
    assert first[0].violation.count == 1
    assert first[0].violation.text == "copy or paste"
    second = rules.feed("telemetry.paste", 10.0, {})
    assert [c.type for c in second] == ["updated"]
    assert second[0].violation.id == first[0].violation.id
    assert (second[0].violation.count, second[0].violation.ended_at) == (2, 10.0)
    third = rules.feed("telemetry.copy", 30.0, {})
    assert third[0].violation.count == 3
    assert third[0].violation.text == "copy or paste x3"
    assert first[0].violation.count == 1  # snapshots
    # more than merge_s after the last one: a new violation
    fresh = rules.feed("telemetry.paste", 60.5, {})
    assert brief(fresh) == [("started", "clipboard", 60.5, 60.5)]
    assert fresh[0].violation.id != first[0].violation.id
    assert fresh[0].violation.count == 1


def test_tick_expires_an_instant_without_a_change() -> None:
    rules = engine("fullscreen_exit")
    first = rules.feed("telemetry.fullscreen_exit", 0.0, {})
    assert rules.tick(31) == []
    assert rules.open_violations() == []
    again = rules.feed("telemetry.fullscreen_exit", 31.0, {})
    assert [c.type for c in again] == ["started"]
    assert again[0].violation.id != first[0].violation.id


def test_instant_violations_are_born_ended_and_close_says_nothing() -> None:
    rules = engine("page_reload")
    started = rules.feed("telemetry.reload", 5.0, {})
    assert started[0].violation.open is False
    assert rules.close(6) == []


def test_merge_override() -> None:
    rules = engine(rule("page_reload", merge_s=0))
    a = rules.feed("telemetry.reload", 0.0, {})
    b = rules.feed("telemetry.reload", 0.5, {})
    assert [c.type for c in a + b] == ["started", "started"]


def test_extra_screens_only_from_two() -> None:
    rules = engine("extra_screens")  # merge 300 s
    assert rules.feed("telemetry.screens", 0.0, {"count": 1}) == []
    assert rules.feed("telemetry.screens", 1.0, {}) == []
    assert rules.feed("telemetry.screens", 2.0, {"count": "two"}) == []
    started = rules.feed("telemetry.screens", 3.0, {"count": 2})
    assert brief(started) == [("started", "extra_screens", 3.0, 3.0)]
    assert started[0].violation.evidence == {"count": 2}
    assert started[0].violation.severity == "high"
    assert [c.type for c in rules.feed("telemetry.screens", 200.0, {"count": 3})] == ["updated"]
    assert [c.type for c in rules.feed("telemetry.screens", 600.0, {"count": 2})] == ["started"]


def test_evidence_keeps_small_values_only() -> None:
    rules = engine(rule("no_face", min_duration_s=0))
    values = {"count": 0, "boxes": [[1, 2, 3, 4]], "image": b"\xff" * 10, "many": list(range(50))}
    started = rules.feed(FACE, 0.0, values)
    assert started[0].violation.evidence == {"count": 0, "boxes": [[1, 2, 3, 4]]}


# -- text in words ----------------------------------------------------------------------------


def violation(**fields: Any) -> Violation:
    base: dict[str, Any] = {
        "attempt_id": "a",
        "kind": "no_face",
        "detector": "face",
        "label": "No face",
        "severity": "high",
        "started_at": 1000.0,
    }
    return Violation(**{**base, **fields})


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "no face"),
        (1, "no face 1 s"),
        (12, "no face 12 s"),
        (89, "no face 89 s"),
        (120, "no face 2 min"),
        (45 * 60, "no face 45 min"),
        (5400, "no face 1.5 h"),
        (2 * 3600, "no face 2.0 h"),
    ],
)
def test_describe_durations(seconds: float, text: str) -> None:
    assert violation(ended_at=1000.0 + seconds).describe() == text


def test_describe_open_violations_with_and_without_now() -> None:
    open_ = violation()
    assert open_.describe() == "no face"
    assert open_.describe(now=1012.0) == "no face 12 s"
    assert open_.describe(now=900.0) == "no face"  # a clock behind the start says no duration


def test_describe_counts() -> None:
    pasted = violation(kind="clipboard", label="Copy or paste", count=3, ended_at=1040.0)
    assert pasted.describe() == "copy or paste x3"


def test_duration() -> None:
    assert violation(ended_at=1030.0).duration_s() == 30.0
    assert violation(ended_at=1030.0).duration_s(now=5000.0) == 30.0
    assert violation().duration_s(now=1060.0) == 60.0
    assert violation().duration_s() == 0.0
    assert violation().open
    assert not violation(ended_at=1001.0).open


def test_violation_json_shape() -> None:
    dumped = violation(ended_at=1012.0, text="no face 12 s").model_dump(mode="json")
    assert set(dumped) == {
        "id",
        "attempt_id",
        "kind",
        "detector",
        "label",
        "severity",
        "started_at",
        "ended_at",
        "count",
        "text",
        "evidence",
    }


# -- fold and worst -----------------------------------------------------------------------------


def test_fold_keeps_the_newest_state_of_each_violation() -> None:
    rules = engine("no_face", "clipboard")
    log: list[Mapping[str, Any]] = []
    changes = frames(rules, 100, 106, count=0)
    changes += rules.feed("telemetry.copy", 50.0, {})
    changes += rules.feed("telemetry.copy", 60.0, {})
    changes += frames(rules, 106, 110, count=1)
    log = [c.violation.model_dump(mode="json") for c in changes]
    assert [c.type for c in changes] == ["started", "started", "updated", "ended"]
    folded = fold(log)
    assert [(v.kind, v.started_at, v.ended_at, v.count) for v in folded] == [
        ("clipboard", 50.0, 60.0, 2),
        ("no_face", 100.0, 106.0, 1),
    ]
    assert fold([]) == []


def test_fold_orders_by_start_then_id() -> None:
    a = violation(id="b", started_at=5.0)
    b = violation(id="a", started_at=5.0)
    c = violation(id="c", started_at=1.0)
    assert [v.id for v in fold(v.model_dump() for v in (a, b, c))] == ["c", "a", "b"]


def test_worst() -> None:
    assert worst([]) is None
    assert worst([violation(severity="low"), violation(severity="medium")]) == "medium"
    assert worst([violation(severity="high"), violation(severity="low")]) == "high"


# -- property: random face streams ---------------------------------------------------------------


def _random_timeline(rng: random.Random) -> list[tuple[str, float, dict[str, Any]]]:
    """Face observations at 2 fps in runs of random counts, with quiet spells, plus some
    browser telemetry in between."""
    events: list[tuple[str, float, dict[str, Any]]] = []
    t = rng.uniform(0, 100)
    for _ in range(rng.randint(1, 30)):
        if rng.random() < 0.15:
            t += rng.uniform(0, 20)  # the source goes quiet for a while
        count = rng.choice([0, 0, 1, 1, 1, 2, 3])
        for _ in range(rng.choice([1, 1, 2, 3, 5, 10, 20, 40])):
            events.append((FACE, t, {"count": count}))
            if rng.random() < 0.05:
                kind = rng.choice(
                    ["telemetry.blur", "telemetry.focus", "telemetry.copy", "telemetry.visibility"]
                )
                state = rng.choice(["hidden", "visible"])
                events.append((kind, t + 0.25, {"state": state}))
            t += 0.5
    return events


def _run(
    events: list[tuple[str, float, dict[str, Any]]], ticks: bool, end: float
) -> list[RuleChange]:
    rules = engine()
    changes: list[RuleChange] = []
    next_tick = events[0][1]
    for kind, ts, values in events:
        while ticks and next_tick < ts:
            changes += rules.tick(next_tick)
            next_tick += 1.0
        changes += rules.feed(kind, ts, values)
    changes += rules.close(end)
    assert rules.open_violations() == []
    return changes


def _outcome(changes: list[RuleChange]) -> list[tuple[str, float, float | None, int]]:
    final = {c.violation.id: c.violation for c in changes}
    return sorted((v.kind, v.started_at, v.ended_at, v.count) for v in final.values())


@pytest.mark.parametrize("seed", range(40))
def test_random_face_streams_give_well_formed_violations(seed: int) -> None:
    rng = random.Random(seed)
    events = _random_timeline(rng)
    end = events[-1][1] + rng.uniform(0, 10)
    changes = _run(events, ticks=True, end=end)

    by_id: dict[str, list[RuleChange]] = {}
    for change in changes:
        by_id.setdefault(change.violation.id, []).append(change)
    finals: list[Violation] = []
    for history in by_id.values():
        types = [c.type for c in history]
        assert types[0] == "started"
        assert types.count("started") == 1
        final = history[-1].violation
        if final.kind in {"no_face", "multiple_faces", "window_blur", "tab_hidden"}:
            # every state violation that started is ended, exactly once, last
            assert types[-1] == "ended", types
            assert types.count("ended") == 1
            assert final.ended_at is not None
            rule_ = CATALOGUE[final.kind]
            assert final.ended_at - final.started_at >= rule_.min_duration_s
        assert final.ended_at is not None
        assert final.started_at <= final.ended_at <= end
        finals.append(final)

    for kind in CATALOGUE:
        spans = sorted((v.started_at, v.ended_at or end) for v in finals if v.kind == kind)
        for (_, ended), (started, _) in itertools.pairwise(spans):
            assert ended <= started, f"{kind} violations overlap"

    # ticks only say things earlier: the violations are the same without them
    assert _outcome(_run(events, ticks=False, end=end)) == _outcome(changes)


def test_face_rules_work_at_a_slow_analysis_rate() -> None:
    """One analysed frame every 10 s: each sample is newer than the catalogue's 5 s staleness
    allows, yet a long absence is still a violation."""
    policy = ProctoringPolicy.model_validate({"enabled": True, "analysis_fps": 0.1})
    rules = AttemptRules("attempt-1", policy.rules_for())
    changes = frames(rules, 0, 60, count=0, fps=0.1)
    changes += rules.tick(65)
    assert brief(changes) == [("started", "no_face", 0.0, None)]
