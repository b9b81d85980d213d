"""The rule catalogue and an exam's proctoring policy: validation, overrides, exemptions."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from core.policy import DEFAULT_RULES, Condition, ProctoringPolicy, Rule, Weight

ALL_KINDS = [
    "no_face",
    "multiple_faces",
    "camera_off",
    "tab_hidden",
    "window_blur",
    "fullscreen_exit",
    "clipboard",
    "extra_screens",
    "page_reload",
]


def builtin(rules: list[Rule]) -> list[Rule]:
    """The built-in rules among ``rules``: plugins booted by other tests in this process may
    have added theirs to the catalogue (tests/core/test_plugin_manager.py covers those)."""
    return [rule for rule in rules if rule.kind in ALL_KINDS]


def kinds(rules: list[Rule]) -> list[str]:
    return [rule.kind for rule in builtin(rules)]


def by_kind(rules: list[Rule]) -> dict[str, Rule]:
    return {rule.kind: rule for rule in builtin(rules)}


# -- the catalogue is the table of docs/proctoring.md -----------------------------------------

# kind: detector, shape, sources, min s, gap/merge s, severity, weight, per min, max
TABLE: dict[str, tuple[Any, ...]] = {
    "no_face": ("face", "state", ("observation.face",), 5, 2, "high", 10, 20, 40),
    "multiple_faces": ("face", "state", ("observation.face",), 2, 2, "high", 15, 20, 50),
    "camera_off": ("stream", "state", ("stream.state",), 10, 2, "medium", 5, 10, 30),
    "tab_hidden": ("telemetry", "state", ("telemetry.visibility",), 0, 0, "medium", 5, 10, 30),
    "window_blur": (
        "telemetry",
        "state",
        ("telemetry.blur", "telemetry.focus"),
        2,
        0,
        "low",
        1,
        5,
        15,
    ),
    "fullscreen_exit": (
        "telemetry",
        "instant",
        ("telemetry.fullscreen_exit",),
        None,
        30,
        "medium",
        5,
        0,
        15,
    ),
    "clipboard": (
        "telemetry",
        "instant",
        ("telemetry.copy", "telemetry.paste"),
        None,
        30,
        "low",
        3,
        0,
        15,
    ),
    "extra_screens": ("telemetry", "instant", ("telemetry.screens",), None, 300, "high", 10, 0, 20),
    "page_reload": ("telemetry", "instant", ("telemetry.reload",), None, 60, "low", 2, 0, 10),
}


def test_the_catalogue_matches_the_documented_table() -> None:
    assert kinds(list(DEFAULT_RULES)) == ALL_KINDS
    for rule in DEFAULT_RULES:
        detector, shape, sources, min_s, gap_or_merge, severity, weight, per_min, most = TABLE[
            rule.kind
        ]
        assert (rule.detector, rule.shape, rule.sources) == (detector, shape, sources)
        assert rule.severity == severity
        assert (rule.weight, rule.per_minute, rule.max_points) == (weight, per_min, most)
        if shape == "state":
            assert (rule.min_duration_s, rule.gap_s) == (min_s, gap_or_merge)
        else:
            assert rule.merge_s == gap_or_merge
        assert rule.enabled


@pytest.mark.parametrize(
    ("kind", "event", "values", "holds"),
    [
        ("no_face", "observation.face", {"count": 0}, True),
        ("no_face", "observation.face", {"count": 1}, False),
        ("no_face", "observation.face", {}, False),
        ("multiple_faces", "observation.face", {"count": 2}, True),
        ("multiple_faces", "observation.face", {"count": 1}, False),
        ("multiple_faces", "observation.face", {"count": "2"}, False),
        ("camera_off", "stream.state", {"video": False}, True),
        ("camera_off", "stream.state", {"video": True}, False),
        ("tab_hidden", "telemetry.visibility", {"state": "hidden"}, True),
        ("tab_hidden", "telemetry.visibility", {"state": "visible"}, False),
        ("window_blur", "telemetry.blur", {}, True),
        ("window_blur", "telemetry.focus", {}, False),
        ("fullscreen_exit", "telemetry.fullscreen_exit", {}, True),
        ("clipboard", "telemetry.copy", {}, True),
        ("clipboard", "telemetry.paste", {}, True),
        ("extra_screens", "telemetry.screens", {"count": 2}, True),
        ("extra_screens", "telemetry.screens", {"count": 1}, False),
        ("page_reload", "telemetry.reload", {}, True),
    ],
)
def test_each_rule_condition(kind: str, event: str, values: dict[str, Any], holds: bool) -> None:
    rule = by_kind(list(DEFAULT_RULES))[kind]
    assert event in rule.sources
    assert rule.when.holds(event, values) is holds


@pytest.mark.parametrize(
    ("op", "actual", "holds"),
    [
        ("eq", 3, True),
        ("eq", 4, False),
        ("ne", 4, True),
        ("ne", 3, False),
        ("gt", 4, True),
        ("gt", 3, False),
        ("ge", 3, True),
        ("ge", 2, False),
        ("lt", 2, True),
        ("lt", 3, False),
        ("le", 3, True),
        ("le", 4, False),
    ],
)
def test_condition_operators(op: str, actual: int, holds: bool) -> None:
    condition = Condition.model_validate({"field": "n", "op": op, "value": 3})
    assert condition.holds("observation.x", {"n": actual}) is holds


def test_condition_missing_or_incomparable_values_do_not_hold() -> None:
    condition = Condition(field="n", op="gt", value=3)
    assert not condition.holds("k", {})
    assert not condition.holds("k", {"n": None})
    assert not condition.holds("k", {"n": "many"})
    assert not Condition(field="n", op="ne", value=3).holds("k", {"n": None})


def test_kind_condition_is_the_event_kind() -> None:
    condition = Condition(field="$kind", value="telemetry.blur")
    assert condition.holds("telemetry.blur", {})
    assert not condition.holds("telemetry.focus", {"$kind": "telemetry.blur"})


def test_condition_rejects_unknown_ops_and_fields() -> None:
    with pytest.raises(ValidationError):
        Condition.model_validate({"field": "n", "op": "like", "value": 3})
    with pytest.raises(ValidationError):
        Condition.model_validate({"field": "n", "value": 3, "extra": 1})
    with pytest.raises(ValidationError):
        Condition.model_validate({"field": ""})


# -- the policy -------------------------------------------------------------------------------


def test_empty_policy_is_valid_and_off() -> None:
    policy = ProctoringPolicy.model_validate({})
    assert policy.enabled is False
    assert (policy.analysis_fps, policy.snapshot_interval_s, policy.rules) == (2.0, 5.0, {})
    assert kinds(policy.resolved()) == ALL_KINDS
    assert builtin(policy.resolved()) == list(DEFAULT_RULES)
    assert kinds(policy.rules_for()) == ALL_KINDS


def test_the_documented_example() -> None:
    policy = ProctoringPolicy.model_validate(
        {
            "enabled": True,
            "analysis_fps": 2,
            "snapshot_interval_s": 5,
            "rules": {
                "no_face": {"min_duration_s": 8, "weight": 15},
                "window_blur": {"enabled": False},
            },
        }
    )
    assert policy.enabled
    resolved = by_kind(policy.resolved())
    assert (resolved["no_face"].min_duration_s, resolved["no_face"].weight) == (8, 15)
    assert resolved["no_face"].gap_s == 2  # not named: default kept
    assert resolved["no_face"].per_minute == 20
    assert resolved["window_blur"].enabled is False  # resolved lists disabled rules too
    running = kinds(policy.rules_for())
    assert "window_blur" not in running
    assert running == [k for k in ALL_KINDS if k != "window_blur"]


def test_every_override_field_applies_and_the_catalogue_is_untouched() -> None:
    override = {
        "min_duration_s": 1.5,
        "gap_s": 4,
        "merge_s": 9,
        "severity": "low",
        "weight": 7,
        "per_minute": 3,
        "max_points": 12,
    }
    policy = ProctoringPolicy.model_validate({"rules": {"multiple_faces": override}})
    rule = by_kind(policy.rules_for())["multiple_faces"]
    assert {name: getattr(rule, name) for name in override} == override
    assert rule.weights() == Weight(weight=7, per_minute=3, max_points=12)
    assert policy.weights()["multiple_faces"] == Weight(weight=7, per_minute=3, max_points=12)
    default = by_kind(list(DEFAULT_RULES))["multiple_faces"]
    assert (default.min_duration_s, default.weight, default.severity) == (2, 15, "high")


def test_weights_cover_every_rule_even_disabled_ones() -> None:
    policy = ProctoringPolicy.model_validate({"rules": {"clipboard": {"enabled": False}}})
    weights = policy.weights()
    assert [kind for kind in weights if kind in ALL_KINDS] == ALL_KINDS
    assert weights["clipboard"] == Weight(weight=3, per_minute=0, max_points=15)


def test_exempting_a_detector_drops_all_its_rules() -> None:
    policy = ProctoringPolicy(enabled=True)
    running = kinds(policy.rules_for(exempt=["face"]))
    assert "no_face" not in running
    assert "multiple_faces" not in running
    assert running == [k for k in ALL_KINDS if k not in {"no_face", "multiple_faces"}]
    telemetry = kinds(policy.rules_for(exempt=["telemetry"]))
    assert telemetry == ["no_face", "multiple_faces", "camera_off"]


def test_exempting_by_kind_drops_that_rule_only() -> None:
    policy = ProctoringPolicy(enabled=True)
    running = kinds(policy.rules_for(exempt=("multiple_faces", "clipboard")))
    assert running == [k for k in ALL_KINDS if k not in {"multiple_faces", "clipboard"}]


def test_exemptions_naming_nothing_change_nothing() -> None:
    policy = ProctoringPolicy(enabled=True)
    assert kinds(policy.rules_for(exempt=["gaze", ""])) == ALL_KINDS


def test_exemption_and_disabled_rule_together() -> None:
    policy = ProctoringPolicy.model_validate({"rules": {"tab_hidden": {"enabled": False}}})
    assert kinds(policy.rules_for(exempt=["stream"])) == [
        k for k in ALL_KINDS if k not in {"tab_hidden", "camera_off"}
    ]


def test_a_disabled_rule_can_be_enabled_again_by_override() -> None:
    policy = ProctoringPolicy.model_validate({"rules": {"page_reload": {"enabled": True}}})
    assert "page_reload" in kinds(policy.rules_for())


def test_unknown_rule_names_are_an_error_naming_them() -> None:
    with pytest.raises(ValidationError) as caught:
        ProctoringPolicy.model_validate(
            {"enabled": True, "rules": {"no_face": {}, "crystal_ball": {}, "lip_sync": {}}}
        )
    message = str(caught.value)
    assert "unknown rule crystal_ball, lip_sync" in message
    assert "no_face" in message.split("known:")[1]  # and lists the ones there are


@pytest.mark.parametrize(
    "raw",
    [
        {"surprise": True},
        {"analysis_fps": 0},
        {"analysis_fps": 11},
        {"snapshot_interval_s": 0.5},
        {"rules": {"no_face": {"weight": -1}}},
        {"rules": {"no_face": {"weight": 101}}},
        {"rules": {"no_face": {"severity": "critical"}}},
        {"rules": {"no_face": {"detector": "gaze"}}},  # not something an exam may change
        {"rules": {"no_face": {"min_duration_s": 3601}}},
        {"rules": {"no_face": "off"}},
    ],
)
def test_invalid_policies_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ProctoringPolicy.model_validate(raw)


# -- stored policies: of() is lenient ---------------------------------------------------------


@pytest.mark.parametrize("raw", [None, {}])
def test_of_nothing_is_off(raw: dict[str, Any] | None) -> None:
    assert ProctoringPolicy.of(raw) == ProctoringPolicy()


def test_of_a_valid_policy_is_that_policy() -> None:
    raw = {"enabled": True, "analysis_fps": 4, "rules": {"no_face": {"weight": 20}}}
    assert ProctoringPolicy.of(raw) == ProctoringPolicy.model_validate(raw)


def test_of_drops_renamed_rules_and_keeps_the_rest() -> None:
    policy = ProctoringPolicy.of(
        {
            "enabled": True,
            "analysis_fps": 4,
            "rules": {"crystal_ball": {"weight": 5}, "no_face": {"weight": 20}},
        }
    )
    assert policy.enabled
    assert policy.analysis_fps == 4
    assert set(policy.rules) == {"no_face"}
    assert by_kind(policy.resolved())["no_face"].weight == 20


def test_of_keeps_what_validates_around_junk() -> None:
    policy = ProctoringPolicy.of(
        {
            "enabled": True,
            "analysis_fps": 4,
            "snapshot_interval_s": "often",
            "legacy_field": 1,
            "rules": {
                "no_face": {"weight": 20},
                "clipboard": {"weight": -3},
                "camera_off": "off",
                "gone": {},
            },
        }
    )
    assert policy.enabled
    assert policy.analysis_fps == 4
    assert policy.snapshot_interval_s == 5.0
    assert set(policy.rules) == {"no_face"}
    assert policy.rules["no_face"].weight == 20


@pytest.mark.parametrize(
    ("raw", "enabled"),
    [
        ({"enabled": True, "rules": ["no_face"]}, True),
        ({"enabled": False, "rules": "junk"}, False),
        ({"enabled": "maybe", "analysis_fps": -1}, True),
        ({"analysis_fps": "fast"}, False),
    ],
)
def test_of_never_raises_on_stored_junk(raw: dict[str, Any], enabled: bool) -> None:
    policy = ProctoringPolicy.of(raw)
    assert policy.enabled is enabled
    assert policy.rules == {}
    assert policy.analysis_fps == 2.0


# -- staleness follows the analysis rate ------------------------------------------------------


def test_default_rate_keeps_the_catalogue_staleness() -> None:
    resolved = by_kind(ProctoringPolicy().resolved())
    assert resolved["no_face"].stale_s == 5.0
    assert resolved["camera_off"].stale_s == 3600
    assert resolved["tab_hidden"].stale_s is None  # an event source never goes stale
    assert resolved["window_blur"].stale_s is None


def test_a_slow_analysis_rate_does_not_make_every_face_sample_stale() -> None:
    policy = ProctoringPolicy.model_validate({"enabled": True, "analysis_fps": 0.1})
    resolved = by_kind(policy.rules_for())
    for kind in ("no_face", "multiple_faces"):
        stale_s = resolved[kind].stale_s
        assert stale_s is not None
        assert stale_s > 10  # longer than one sample period
    assert resolved["camera_off"].stale_s == 3600
    assert resolved["tab_hidden"].stale_s is None
