"""Request and response models of the candidate side: my exams, attempts, autosave, results.

Nothing here can carry a correct answer, an explanation before release, option feedback or a
hidden test: questions are shown only through the bank's ``candidate_view``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AttemptStatus = Literal["in_progress", "submitted", "auto_submitted", "graded"]
EndedBy = Literal["candidate", "timer", "proctor"]
MAX_SEQ = 2**31 - 1


class MyExam(BaseModel):
    id: int
    title: str
    description: str
    opens_at: datetime | None
    closes_at: datetime | None
    duration_minutes: int
    extra_time_minutes: int
    navigation: str
    state: Literal["upcoming", "open", "closed"]
    attempts_allowed: int
    attempts_used: int
    attempts_left: int
    in_progress_attempt_id: str | None
    last_attempt_id: str | None
    result_released: bool
    proctored: bool = Field(
        description="the exam's proctoring policy is enabled: consent and a system check come "
        "before the start, and the camera streams during the attempt"
    )


class AttemptSummary(BaseModel):
    id: str
    exam_id: int
    number: int
    status: AttemptStatus
    started_at: datetime
    deadline_at: datetime
    submitted_at: datetime | None
    server_now: datetime
    ended_by: EndedBy | None = Field(
        None,
        description="who ended the attempt; null while it runs (or if ended before this "
        "was recorded)",
    )


class SavedAnswerView(BaseModel):
    response: dict[str, Any]
    seq: int
    flagged: bool
    saved_at: datetime


class ItemView(BaseModel):
    item: int
    section: int
    type: str
    points: float
    locked: bool = Field(
        description="sequential navigation: earlier items must be answered or skipped first; "
        "a locked item carries no question"
    )
    question: dict[str, Any] | None
    answer: SavedAnswerView | None


class AttemptView(AttemptSummary):
    exam_title: str
    navigation: str
    grace_seconds: int
    sections: list[str]
    items: list[ItemView]
    paused: bool = Field(
        description="a proctor paused the attempt: saves and submit wait, the clock stands "
        "still (time left is deadline_at - paused_at) and the deadline moves on resume"
    )
    paused_at: datetime | None
    proctored: bool = Field(description="the exam's proctoring policy is enabled")


class SaveAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1, le=MAX_SEQ, description="per-item counter kept by the page")
    response: dict[str, Any] = Field(description="shape per question type; blank = skip")
    flagged: bool = False


class SaveAck(BaseModel):
    item: int
    seq: int
    saved_at: datetime


class ItemResult(BaseModel):
    item: int
    type: str
    points: float
    score: float | None
    feedback: str
    rubric_scores: dict[str, float] | None
    response: dict[str, Any]
    explanation: str


class AttemptResult(BaseModel):
    id: str
    exam_id: int
    exam_title: str
    number: int
    status: AttemptStatus
    submitted_at: datetime | None
    score: float | None
    max_score: float | None
    percent: float | None
    passed: bool | None
    ended_by: EndedBy | None
    end_reason: str | None = Field(description="the proctor's reason when a proctor ended it")
    items: list[ItemResult]
