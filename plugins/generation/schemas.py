"""Request and response models of the generation API.

Inputs forbid unknown fields so a typo is a 422 naming it; counts are capped per type and in
total (``[generation] max_questions_per_job``, checked by the route) so one click cannot start
a thousand paid requests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from plugins.generation.backend import GeneratedType
from plugins.questions.models import (
    Body,
    CheckedPayload,
    Explanation,
    Points,
    Tags,
    Title,
)
from plugins.questions.payloads import Difficulty


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenerateOptions(_Input):
    """What to generate; the source comes as ``text`` here or as an uploaded file."""

    counts: dict[GeneratedType, int] = Field(
        description='How many questions of each type, e.g. {"single_choice": 3}.'
    )
    difficulty: Difficulty = "medium"
    language: str = Field(
        "python", pattern=r"^[a-z0-9+#]{1,20}$", description="Language of coding problems."
    )

    @model_validator(mode="after")
    def _some(self) -> GenerateOptions:
        if any(n < 0 or n > 50 for n in self.counts.values()):
            raise ValueError("each count must be between 0 and 50")
        if sum(self.counts.values()) < 1:
            raise ValueError("ask for at least one question")
        return self


class GenerateIn(GenerateOptions):
    source_kind: Literal["topic", "syllabus", "material"] = Field(
        description="topic: a few words; syllabus: an outline; material: study text (Markdown)."
    )
    text: str = Field(min_length=1, max_length=2_000_000)

    @model_validator(mode="after")
    def _not_blank(self) -> GenerateIn:
        if not self.text.strip():
            raise ValueError("text is blank")
        return self


class JobError(BaseModel):
    type: str
    number: int = Field(description="1 = the first question of that type")
    message: str


class JobOut(BaseModel):
    id: int
    status: Literal["queued", "running", "done", "failed"]
    source_kind: str
    source_name: str
    source_hash: str
    backend: str
    difficulty: str
    counts: dict[str, int]
    total: int
    done: int
    failed: int
    errors: list[JobError]
    prompt_tokens: int
    completion_tokens: int
    cost: float
    created_at: datetime
    finished_at: datetime | None


class DraftOut(BaseModel):
    id: int
    job_id: int
    type: str
    title: str
    body: str
    points: float
    payload: dict[str, Any]
    explanation: str
    tags: list[str]
    difficulty: str
    reference: dict[str, Any] | None
    reference_status: Literal["not_applicable", "passed", "not_verified"]
    duplicate_of: int | None = Field(description="Bank question this draft nearly repeats.")
    similarity: float | None
    status: Literal["draft", "approved", "rejected"]
    question_id: int | None = Field(description="The bank question made on approval.")
    updated_at: datetime


class DraftUpdate(_Input):
    """Edits to a draft; the payload must keep the draft's type."""

    title: Title | None = None
    body: Body | None = None
    points: Points | None = None
    payload: CheckedPayload | None = None
    explanation: Explanation | None = None
    tags: Tags | None = None
    difficulty: Difficulty | None = None


class DraftQuery(_Input):
    job_id: int | None = Field(None, ge=1)
    status: Literal["draft", "approved", "rejected"] | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


class ApproveIn(_Input):
    category_id: int | None = Field(None, ge=1, description="Bank category of the question.")


class DraftPage(BaseModel):
    items: list[DraftOut]
    total: int
