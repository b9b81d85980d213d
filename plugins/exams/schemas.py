"""Request and response models of the examiner side: exams, sections, candidates, grading and
results. Every request field has a limit, so a request can never store more than a person could
have meant to (candidate-side models are in :mod:`plugins.exams.attempt_schemas`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from plugins.exams.papers import FixedRule, PoolRule

Navigation = Literal["free", "sequential"]
ReleasePolicy = Literal["immediately", "after_close", "manual"]
ExamStatus = Literal["draft", "published", "archived"]
MAX_POLICY_BYTES = 16 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExamSettings(_Strict):
    """Fields an examiner sets; every one optional so ``PUT`` changes only what it sends."""

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20_000, description="Markdown")
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    duration_minutes: int | None = Field(None, ge=1, le=24 * 60)
    attempts_allowed: int | None = Field(None, ge=1, le=100)
    navigation: Navigation | None = None
    shuffle_questions: bool | None = None
    shuffle_options: bool | None = None
    grace_seconds: int | None = Field(None, ge=0, le=3600)
    negative_marking: float | None = Field(None, ge=0, le=1)
    release_policy: ReleasePolicy | None = None
    pass_mark: float | None = Field(None, ge=0, le=100, description="percent")
    proctoring_policy: dict[str, Any] | None = Field(
        None,
        description="live proctoring: enabled, analysis_fps, snapshot_interval_s and per-rule "
        "overrides (core.policy.ProctoringPolicy; {} = off); 422 invalid_policy names a problem",
    )

    @field_validator("proctoring_policy")
    @classmethod
    def _small_policy(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value)) > MAX_POLICY_BYTES:
            raise ValueError(f"at most {MAX_POLICY_BYTES} bytes of JSON")
        return value

    @model_validator(mode="after")
    def _window(self) -> ExamSettings:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class SectionIn(_Strict):
    title: str = Field("", max_length=200)
    rules: list[FixedRule | PoolRule] = Field(min_length=1, max_length=100)


class SectionsIn(_Strict):
    sections: list[SectionIn] = Field(max_length=50)


class ExamCreate(ExamSettings):
    title: str = Field(min_length=1, max_length=200)
    sections: list[SectionIn] | None = Field(None, max_length=50)


class SectionPublic(BaseModel):
    id: int
    position: int
    title: str
    rules: list[dict[str, Any]]


class ExamPublic(BaseModel):
    id: int
    title: str
    description: str
    status: ExamStatus
    opens_at: datetime | None
    closes_at: datetime | None
    duration_minutes: int
    attempts_allowed: int
    navigation: Navigation
    shuffle_questions: bool
    shuffle_options: bool
    grace_seconds: int
    negative_marking: float
    release_policy: ReleasePolicy
    released_at: datetime | None
    pass_mark: float | None
    proctoring_policy: dict[str, Any]
    created_by: int | None
    created_at: datetime
    updated_at: datetime


class ExamDetail(ExamPublic):
    sections: list[SectionPublic]
    candidate_count: int


class ExamQuery(_Strict):
    status: ExamStatus | None = None
    q: str | None = Field(None, max_length=200, description="part of the title")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class ExamPage(BaseModel):
    items: list[ExamPublic]
    total: int


DetectorName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_.-]+$")]


class CandidateIn(_Strict):
    user_id: int = Field(ge=1)
    extra_time_minutes: int = Field(0, ge=0, le=24 * 60)
    exempt_detectors: list[DetectorName] = Field(default_factory=list, max_length=20)
    notes: str = Field("", max_length=500)


class CandidatesIn(_Strict):
    """The full list of candidates (``PUT`` replaces it; attempts already made stay)."""

    candidates: list[CandidateIn] = Field(max_length=100_000)

    @model_validator(mode="after")
    def _unique(self) -> CandidatesIn:
        ids = [c.user_id for c in self.candidates]
        if len(set(ids)) != len(ids):
            raise ValueError("a user is listed twice")
        return self


class CandidatePublic(BaseModel):
    user_id: int
    email: str
    display_name: str
    extra_time_minutes: int
    exempt_detectors: list[str]
    notes: str
    attempts: int


class TimeCreditIn(_Strict):
    minutes: int = Field(ge=1, le=24 * 60)
    attempt_ids: list[Annotated[str, Field(max_length=32)]] | None = Field(
        None, max_length=100_000, description="default: every in-progress attempt of the exam"
    )
    reason: str = Field("", max_length=500)


class CreditedAttempt(BaseModel):
    attempt_id: str
    deadline_at: datetime


class TimeCreditOut(BaseModel):
    minutes: int
    credited: list[CreditedAttempt]


class QueueQuery(_Strict):
    exam_id: int | None = Field(None, ge=1)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class QueueItem(BaseModel):
    attempt_id: str
    exam_id: int
    exam_title: str
    user_id: int
    item: int
    type: str
    points: float
    title: str
    body: str
    rubric: list[dict[str, Any]]
    response: dict[str, Any]
    submitted_at: datetime | None


class QueuePage(BaseModel):
    items: list[QueueItem]
    total: int


class ManualGrade(_Strict):
    score: float | None = Field(None, ge=0, le=1000, description="in the item's points")
    feedback: str = Field("", max_length=10_000)
    rubric_scores: (
        dict[Annotated[str, Field(max_length=200)], Annotated[float, Field(ge=0)]] | None
    ) = Field(None, max_length=20, description="criterion → points")


class GradeSaved(BaseModel):
    attempt_id: str
    item: int
    attempt_status: str
    attempt_score: float | None
    max_score: float | None


class ResultRowOut(BaseModel):
    attempt_id: str
    user_id: int
    email: str
    display_name: str
    number: int
    status: str
    started_at: datetime
    deadline_at: datetime
    submitted_at: datetime | None
    time_credit_seconds: int
    score: float | None
    max_score: float | None
    percent: float | None
    passed: bool | None
    ended_by: str | None = Field(description="candidate | timer | proctor; null while running")
    end_reason: str | None = Field(description="the proctor's reason when a proctor ended it")


class ResultsOut(BaseModel):
    exam_id: int
    released: bool
    rows: list[ResultRowOut]


class Released(BaseModel):
    exam_id: int
    released_at: datetime
