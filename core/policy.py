"""What an exam asks of live proctoring: the rule catalogue and the policy that tunes it.

A rule is data, not code: which event kinds feed it, the condition on their values, how long
the condition must hold, and how many points it is worth. Examiners override any of those per
exam in ``proctoring_policy``; a candidate's accommodations switch rules off for that person.
Keeping the catalogue declarative is what lets a reviewer recompute a score with other weights
after the exam and lets docs/proctoring.md print the same table the engine runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Severity = Literal["low", "medium", "high"]
Op = Literal["eq", "ne", "gt", "ge", "lt", "le"]
SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3}


class Condition(BaseModel):
    """``values[field] <op> value``; the field ``$kind`` is the event kind itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(min_length=1, max_length=40)
    op: Op = "eq"
    value: Any = None

    def holds(self, kind: str, values: Mapping[str, Any]) -> bool:
        actual = kind if self.field == "$kind" else values.get(self.field)
        if actual is None:
            return False
        try:
            match self.op:
                case "eq":
                    return bool(actual == self.value)
                case "ne":
                    return bool(actual != self.value)
                case "gt":
                    return bool(actual > self.value)
                case "ge":
                    return bool(actual >= self.value)
                case "lt":
                    return bool(actual < self.value)
                case "le":
                    return bool(actual <= self.value)
        except TypeError:  # e.g. a string compared with a number: the condition does not hold
            return False
        return False  # pragma: no cover - every op is matched above


class Weight(BaseModel):
    """The points a violation is worth; see :mod:`core.scoring`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weight: float = Field(ge=0, le=100, description="points when it starts (per occurrence)")
    per_minute: float = Field(0.0, ge=0, le=100, description="points per minute it lasts")
    max_points: float = Field(ge=0, le=100, description="the most one violation can add")


class Rule(Weight):
    """One entry of the catalogue (see the table in docs/proctoring.md)."""

    kind: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    detector: str = Field(min_length=1, max_length=40, description="what exemptions name")
    label: str = Field(min_length=1, max_length=60, description="short name on a badge")
    shape: Literal["state", "instant"]
    sources: tuple[str, ...] = Field(min_length=1, description="event kinds that feed it")
    when: Condition
    min_duration_s: float = Field(0.0, ge=0, le=3600, description="state: hold this long first")
    gap_s: float = Field(0.0, ge=0, le=3600, description="state: clear this long to end")
    merge_s: float = Field(0.0, ge=0, le=3600, description="instant: join repeats within")
    stale_s: float | None = Field(
        5.0,
        gt=0,
        le=3600,
        description="state, sampled sources: no sample this long ends it; None for sources that "
        "send an event only on a change (their newest event holds until the next one)",
    )
    severity: Severity = "medium"
    enabled: bool = True

    def weights(self) -> Weight:
        return Weight(weight=self.weight, per_minute=self.per_minute, max_points=self.max_points)


def _state(
    kind: str,
    detector: str,
    label: str,
    sources: tuple[str, ...],
    when: Condition,
    **rest: Any,
) -> Rule:
    return Rule(
        kind=kind,
        detector=detector,
        label=label,
        shape="state",
        sources=sources,
        when=when,
        **rest,
    )


def _instant(kind: str, label: str, sources: tuple[str, ...], when: Condition, **rest: Any) -> Rule:
    return Rule(
        kind=kind,
        detector="telemetry",
        label=label,
        shape="instant",
        sources=sources,
        when=when,
        **rest,
    )


DEFAULT_RULES: tuple[Rule, ...] = (
    _state(
        "no_face", "face", "No face", ("observation.face",), Condition(field="count", value=0),
        min_duration_s=5, gap_s=2, severity="high", weight=10, per_minute=20, max_points=40,
    ),
    _state(
        "multiple_faces", "face", "Several faces", ("observation.face",),
        Condition(field="count", op="ge", value=2),
        min_duration_s=2, gap_s=2, severity="high", weight=15, per_minute=20, max_points=50,
    ),
    _state(
        "camera_off", "stream", "Camera off", ("stream.state",),
        Condition(field="video", value=False), stale_s=3600,
        min_duration_s=10, gap_s=2, severity="medium", weight=5, per_minute=10, max_points=30,
    ),
    _state(
        "tab_hidden", "telemetry", "Left the exam tab", ("telemetry.visibility",),
        Condition(field="state", value="hidden"), stale_s=None,
        min_duration_s=0, gap_s=0, severity="medium", weight=5, per_minute=10, max_points=30,
    ),
    _state(
        "window_blur", "telemetry", "Another window", ("telemetry.blur", "telemetry.focus"),
        Condition(field="$kind", value="telemetry.blur"), stale_s=None,
        min_duration_s=2, gap_s=0, severity="low", weight=1, per_minute=5, max_points=15,
    ),
    _instant(
        "fullscreen_exit", "Left full screen", ("telemetry.fullscreen_exit",),
        Condition(field="$kind", value="telemetry.fullscreen_exit"),
        merge_s=30, severity="medium", weight=5, max_points=15,
    ),
    _instant(
        "clipboard", "Copy or paste", ("telemetry.copy", "telemetry.paste"),
        Condition(field="$kind", op="ne", value=""),
        merge_s=30, severity="low", weight=3, max_points=15,
    ),
    _instant(
        "extra_screens", "Extra screen", ("telemetry.screens",),
        Condition(field="count", op="ge", value=2),
        merge_s=300, severity="high", weight=10, max_points=20,
    ),
    _instant(
        "page_reload", "Page reloaded", ("telemetry.reload",),
        Condition(field="$kind", value="telemetry.reload"),
        merge_s=60, severity="low", weight=2, max_points=10,
    ),
)  # fmt: skip


SAMPLES_BEFORE_STALE = 3  # analysed frames that may go missing before a source counts as quiet


def _stale_at(rule: Rule, analysis_fps: float) -> float | None:
    """``stale_s`` for a rule fed by detector observations at ``analysis_fps``: a slow analysis
    rate (one frame every 10 s) must not make every sample stale before the next one arrives,
    which would stop the face rules from ever starting."""
    if rule.stale_s is None or not any(s.startswith("observation.") for s in rule.sources):
        return rule.stale_s
    return min(3600.0, max(rule.stale_s, SAMPLES_BEFORE_STALE / analysis_fps))


_catalogue: dict[str, Rule] = {rule.kind: rule for rule in DEFAULT_RULES}


def catalogue() -> list[Rule]:
    """Every rule this process knows: the built-in ones, then those plugins registered."""
    return list(_catalogue.values())


def register_rules(rules: Iterable[Rule]) -> None:
    """Add plugins' rules (hook ``invigilator_register_rules``) to the catalogue.

    Registering the same rule again is a no-op (several apps in one process boot the same
    plugins); a different rule under a kind already taken is an error, so two plugins can never
    silently fight over what ``gaze_away`` means.
    """
    for rule in rules:
        known = _catalogue.get(rule.kind)
        if known is not None and known != rule:
            raise ValueError(f"rule {rule.kind!r} is already registered with another definition")
        _catalogue[rule.kind] = rule


class RuleOverride(BaseModel):
    """What an exam may change of a rule; unset fields keep the default."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    min_duration_s: float | None = Field(None, ge=0, le=3600)
    gap_s: float | None = Field(None, ge=0, le=3600)
    merge_s: float | None = Field(None, ge=0, le=3600)
    severity: Severity | None = None
    weight: float | None = Field(None, ge=0, le=100)
    per_minute: float | None = Field(None, ge=0, le=100)
    max_points: float | None = Field(None, ge=0, le=100)


class ProctoringPolicy(BaseModel):
    """An exam's ``proctoring_policy``; ``{}`` is a valid policy with proctoring off."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="consent, system check and streaming required")
    analysis_fps: float = Field(2.0, gt=0, le=10, description="frames analysed per second")
    snapshot_interval_s: float = Field(5.0, ge=1, le=600, description="seconds between snapshots")
    rules: dict[str, RuleOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_rules(self) -> ProctoringPolicy:
        known = set(_catalogue)
        unknown = sorted(set(self.rules) - known)
        if unknown:
            names = ", ".join(unknown)
            raise ValueError(f"unknown rule {names}; known: {', '.join(sorted(known))}")
        return self

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> ProctoringPolicy:
        """The policy stored on an exam. Policies are validated when saved; one stored before a
        rule was renamed (or a field changed) keeps every part that still validates rather than
        stopping live proctoring or silently dropping the rest of the exam's choices."""
        data = dict(raw or {})
        try:
            return cls.model_validate(data)
        except ValueError:
            pass
        kept: dict[str, Any] = {}
        for name in cls.model_fields:
            if name == "rules" or name not in data:
                continue
            try:
                cls.model_validate({name: data[name]})
            except ValueError:
                continue
            kept[name] = data[name]
        if "enabled" not in kept:  # junk in the switch itself: err on the side of proctoring
            kept["enabled"] = bool(data.get("enabled"))
        known = set(_catalogue)
        stored = data.get("rules")
        overrides: dict[str, RuleOverride] = {}
        for kind, override in (stored if isinstance(stored, Mapping) else {}).items():
            if kind in known:
                try:
                    overrides[kind] = RuleOverride.model_validate(override)
                except ValueError:
                    continue
        return cls.model_validate({**kept, "rules": overrides})

    def resolved(self) -> list[Rule]:
        """Every rule of the catalogue with this exam's overrides applied (disabled ones too)."""
        rules: list[Rule] = []
        for rule in _catalogue.values():
            override = self.rules.get(rule.kind)
            changes = override.model_dump(exclude_none=True) if override is not None else {}
            stale_s = _stale_at(rule, self.analysis_fps)
            if stale_s != rule.stale_s:
                changes["stale_s"] = stale_s
            rules.append(rule.model_copy(update=changes) if changes else rule)
        return rules

    def rules_for(self, exempt: Iterable[str] = ()) -> list[Rule]:
        """The rules that run for one candidate: enabled and not switched off by ``exempt``."""
        exempted = set(exempt)
        return [
            rule
            for rule in self.resolved()
            if rule.enabled and rule.kind not in exempted and rule.detector not in exempted
        ]

    def weights(self) -> dict[str, Weight]:
        """Every rule's weights with this exam's overrides, by kind."""
        return {rule.kind: rule.weights() for rule in self.resolved()}
