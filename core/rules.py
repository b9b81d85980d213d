"""Per-attempt temporal rules: a stream of events in, violations with a start and an end out.

Detectors say what one frame showed ("0 faces"); a violation says what a person did over time
("no face for 12 s"). The difference is time: a single frame without a face is a blink or a
sneeze, so a state rule must hold for ``min_duration_s`` before it becomes a violation, and one
frame with a face inside a long absence must not split it in two, so it must stop holding for
``gap_s`` before it ends. Instant rules (a paste, leaving full screen) start a violation at once
and fold repeats within ``merge_s`` into it, so a candidate who pastes ten times in a minute is
one violation with ``count`` 10, not ten alerts.

The engine is pure: it never reads a clock (``tick(now)`` is passed the time) and never does
I/O, so the live path, the recompute of a finished exam and the tests all run the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from core.events import new_event_id
from core.policy import SEVERITY_RANK, Rule, Severity

ChangeType = Literal["started", "updated", "ended"]


def _seconds(value: float) -> str:
    value = max(0.0, value)
    if value < 90:
        return f"{value:.0f} s"
    if value < 5400:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


class Violation(BaseModel):
    """One violation as stored in the event log and shown to proctors (docs/proctoring.md)."""

    id: str = Field(default_factory=new_event_id, max_length=64)
    attempt_id: str = Field(max_length=64)
    kind: str
    detector: str
    label: str
    severity: Severity
    started_at: float = Field(description="seconds since the epoch the condition first held")
    ended_at: float | None = None
    count: int = Field(1, ge=1, description="instant rules: occurrences folded into this one")
    text: str = Field("", description="the reason in words, e.g. 'no face 12 s'")
    evidence: dict[str, Any] = Field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.ended_at is None

    def duration_s(self, now: float | None = None) -> float:
        end = self.ended_at if self.ended_at is not None else now
        return max(0.0, (end if end is not None else self.started_at) - self.started_at)

    def describe(self, now: float | None = None) -> str:
        """The badge text: what happened and, for a state, for how long."""
        label = self.label[0].lower() + self.label[1:]
        if self.count > 1:
            return f"{label} x{self.count}"
        if self.ended_at is None and now is None:
            return label
        duration = self.duration_s(now)
        return f"{label} {_seconds(duration)}" if duration >= 1 else label


@dataclass(frozen=True)
class RuleChange:
    """What :class:`AttemptRules` reports; ``violation`` is a snapshot at that moment."""

    type: ChangeType
    violation: Violation


@dataclass
class _State:
    """One rule's memory for one attempt."""

    holding_since: float | None = None  # first sample of the current run of "condition holds"
    clearing_since: float | None = None  # first sample where it stopped holding (while active)
    last_sample: float | None = None
    active: Violation | None = None
    values: dict[str, Any] = field(default_factory=dict)  # newest sample where it held


@dataclass
class AttemptRules:
    """The rules of one attempt. Feed events in time order; act on the changes returned."""

    attempt_id: str
    rules: list[Rule]
    _states: dict[str, _State] = field(default_factory=dict)
    _by_source: dict[str, list[Rule]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for rule in self.rules:
            self._states[rule.kind] = _State()
            for source in rule.sources:
                self._by_source.setdefault(source, []).append(rule)

    @property
    def sources(self) -> frozenset[str]:
        """The event kinds any rule of this attempt listens to."""
        return frozenset(self._by_source)

    def open_violations(self) -> list[Violation]:
        return [s.active for s in self._states.values() if s.active is not None]

    def feed(self, kind: str, ts: float, values: Mapping[str, Any]) -> list[RuleChange]:
        """One event (an observation, telemetry or stream state) at ``ts``."""
        changes: list[RuleChange] = []
        for rule in self._by_source.get(kind, ()):
            state = self._states[rule.kind]
            holds = rule.when.holds(kind, values)
            if rule.shape == "instant":
                if holds:
                    changes.extend(self._instant(rule, state, ts, values))
                continue
            # time passed since the previous event: what a tick at ``ts`` would have done comes
            # first, so the outcome never depends on whether (or when) ticks ran in between
            changes.extend(self._advance(rule, state, ts))
            changes.extend(self._sample(rule, state, ts, holds, values))
        return changes

    def tick(self, now: float) -> list[RuleChange]:
        """Let time pass: durations reached, gaps cleared, instants expired, samples gone stale."""
        changes: list[RuleChange] = []
        for rule in self.rules:
            state = self._states[rule.kind]
            if rule.shape == "instant":
                active = state.active
                last = active.ended_at or active.started_at if active is not None else None
                if last is not None and now - last > rule.merge_s:
                    state.active = None  # an instant violation is closed when it is recorded
                continue
            changes.extend(self._advance(rule, state, now))
        return changes

    def close(self, ts: float) -> list[RuleChange]:
        """End everything open (the attempt ended or the stream went away for good)."""
        changes = self.tick(ts)  # a condition that held long enough by ``ts`` still counts
        for rule in self.rules:
            state = self._states[rule.kind]
            if state.active is not None and rule.shape == "state":
                end = state.clearing_since if state.clearing_since is not None else ts
                changes.append(self._end(state, end))
            state.active = None
            state.holding_since = state.clearing_since = state.last_sample = None
        return changes

    # -- state rules ---------------------------------------------------------------------------

    def _advance(self, rule: Rule, state: _State, now: float) -> list[RuleChange]:
        """Time passes up to ``now`` without a new event: a quiet sampled source goes stale, a
        condition held long enough starts, a gap cleared long enough ends.

        A sampled source (``stale_s`` set) shows the condition only at its samples, so time alone
        never starts its violation: between its last sample and going stale nobody knows, and a
        violation started there would end at that last sample, shorter than ``min_duration_s``.
        An event source (``stale_s`` None) sends only changes, so its newest event holds until
        the next one and time passing is all it takes."""
        if (
            rule.stale_s is not None
            and state.last_sample is not None
            and now - state.last_sample > rule.stale_s
        ):
            return self._go_stale(state)
        if state.active is None:
            if state.holding_since is None:
                return []
            if state.clearing_since is not None:  # a pause inside a run not yet long enough
                if now - state.clearing_since >= rule.gap_s:
                    state.holding_since = state.clearing_since = None  # too long: run over
                return []
            held_until = now if rule.stale_s is None else state.last_sample
            if held_until is not None and held_until - state.holding_since >= rule.min_duration_s:
                return [self._start(rule, state, state.holding_since, state.values)]
        elif state.clearing_since is not None and now - state.clearing_since >= rule.gap_s:
            return [self._end(state, state.clearing_since)]
        return []

    def _sample(
        self, rule: Rule, state: _State, ts: float, holds: bool, values: Mapping[str, Any]
    ) -> list[RuleChange]:
        changes: list[RuleChange] = []
        state.last_sample = ts
        if holds:
            state.clearing_since = None
            state.values = dict(values)
            if state.holding_since is None:
                state.holding_since = ts
            if state.active is None and ts - state.holding_since >= rule.min_duration_s:
                changes.append(self._start(rule, state, state.holding_since, values))
        elif state.holding_since is not None or state.active is not None:
            # A pause shorter than ``gap_s`` neither ends a violation nor restarts the count
            # towards ``min_duration_s``: a speaker between two sentences is still talking.
            if state.clearing_since is None:
                state.clearing_since = ts
            if ts - state.clearing_since >= rule.gap_s:
                if state.active is not None:
                    changes.append(self._end(state, state.clearing_since))
                else:
                    state.holding_since = state.clearing_since = None
        return changes

    def _go_stale(self, state: _State) -> list[RuleChange]:
        changes: list[RuleChange] = []
        if state.active is not None:
            end = state.clearing_since if state.clearing_since is not None else state.last_sample
            changes.append(self._end(state, end if end is not None else state.active.started_at))
        state.holding_since = state.clearing_since = state.last_sample = None
        return changes

    def _start(
        self, rule: Rule, state: _State, started_at: float, values: Mapping[str, Any]
    ) -> RuleChange:
        violation = Violation(
            attempt_id=self.attempt_id,
            kind=rule.kind,
            detector=rule.detector,
            label=rule.label,
            severity=rule.severity,
            started_at=started_at,
            evidence=_evidence(values),
        )
        violation.text = violation.describe()
        state.active = violation
        state.clearing_since = None
        return RuleChange("started", violation.model_copy())

    def _end(self, state: _State, ended_at: float) -> RuleChange:
        assert state.active is not None
        violation = state.active
        violation.ended_at = max(ended_at, violation.started_at)
        violation.text = violation.describe()
        state.active = None
        state.holding_since = None
        state.clearing_since = None
        return RuleChange("ended", violation.model_copy())

    # -- instant rules -------------------------------------------------------------------------

    def _instant(
        self, rule: Rule, state: _State, ts: float, values: Mapping[str, Any]
    ) -> list[RuleChange]:
        active = state.active
        if active is not None and ts - (active.ended_at or active.started_at) <= rule.merge_s:
            active.count += 1
            active.ended_at = ts
            active.text = active.describe()
            return [RuleChange("updated", active.model_copy())]
        violation = Violation(
            attempt_id=self.attempt_id,
            kind=rule.kind,
            detector=rule.detector,
            label=rule.label,
            severity=rule.severity,
            started_at=ts,
            ended_at=ts,
            evidence=_evidence(values),
        )
        violation.text = violation.describe()
        state.active = violation
        return [RuleChange("started", violation.model_copy())]


def _evidence(values: Mapping[str, Any]) -> dict[str, Any]:
    """The triggering values, small: lists of boxes and the like are kept, blobs never are."""
    kept: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, str | int | float | bool) or value is None:
            kept[key] = value
        elif isinstance(value, list | tuple) and len(value) <= 16:
            kept[key] = list(value)
    return kept


def worst(violations: Iterable[Violation]) -> Severity | None:
    """The highest severity among ``violations`` (None when there are none)."""
    chosen: Severity | None = None
    for violation in violations:
        if chosen is None or SEVERITY_RANK[violation.severity] > SEVERITY_RANK[chosen]:
            chosen = violation.severity
    return chosen


def fold(events: Iterable[Mapping[str, Any]]) -> list[Violation]:
    """The latest state of each violation from ``violation.*`` event payloads, by start time."""
    latest: dict[str, Violation] = {}
    for data in events:
        violation = Violation.model_validate(data)
        latest[violation.id] = violation
    return sorted(latest.values(), key=lambda v: (v.started_at, v.id))
