"""Request and response models of the question-bank API, shared with import and the service.

Inputs forbid unknown fields so a typo (``"dificulty"``) is a 422 naming the field rather than a
silent no-op, and every string and list has a cap so an oversized body is refused by validation
instead of reaching the database. :class:`QuestionIn` is the one definition of "a valid new
question": the API, both import formats and the demo seed all go through it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from plugins.questions.payloads import Difficulty, QuestionPayload, QuestionType, ShortAnswer
from plugins.questions.safe_regex import UnsafePattern, check_pattern

MAX_TAGS = 20


def _dedupe(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Tag = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=1,
        max_length=64,
        pattern=r"^\w[\w .:+#/-]*$",
    ),
]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_dedupe)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, Field(max_length=50_000, description="Markdown")]
Explanation = Annotated[str, Field(max_length=20_000, description="Markdown, shown after release")]
Points = Annotated[float, Field(gt=0, le=1000)]


def check_payload(payload: Any) -> Any:
    """Checks the payload models cannot make on their own: accepted-answer patterns must be
    safe to run (see :mod:`plugins.questions.safe_regex`)."""
    if isinstance(payload, ShortAnswer):
        for number, accepted in enumerate(payload.accepted):
            if accepted.match == "regex":
                try:
                    check_pattern(accepted.value)
                except UnsafePattern as error:
                    raise ValueError(f"accepted[{number}]: {error}") from None
    return payload


CheckedPayload = Annotated[QuestionPayload, AfterValidator(check_payload)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuestionIn(_Input):
    """A new question: its identity (type, tags, difficulty, category) and version 1."""

    type: QuestionType
    title: Title
    body: Body = ""
    points: Points = 1.0
    payload: CheckedPayload
    explanation: Explanation = ""
    tags: Tags = Field(default_factory=list)
    difficulty: Difficulty = "medium"
    category_id: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _payload_matches_type(self) -> QuestionIn:
        if self.payload.type != self.type:
            raise ValueError(f"payload.type is {self.payload.type!r} but type is {self.type!r}")
        return self


class QuestionUpdate(_Input):
    """Content fields (title, body, points, payload, explanation) write a new version when they
    differ from the current one; metadata (tags, difficulty, category, archived) never does."""

    title: Title | None = None
    body: Body | None = None
    points: Points | None = None
    payload: CheckedPayload | None = None
    explanation: Explanation | None = None
    tags: Tags | None = None
    difficulty: Difficulty | None = None
    category_id: int | None = Field(None, ge=1, description="null removes the category")
    archived: bool | None = None
    base_version: int | None = Field(
        None, ge=1, description="The version the edit started from; 409 when it moved since."
    )


class VersionOut(BaseModel):
    id: int
    version: int
    title: str
    body: str
    points: float
    payload: dict[str, Any]
    explanation: str
    created_by: int | None
    created_at: datetime


class QuestionOut(BaseModel):
    """A question with one version's content (the current one unless ``?version=`` asked)."""

    id: int
    type: str
    current_version: int
    category_id: int | None
    difficulty: str
    archived: bool
    tags: list[str]
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    content: VersionOut


class QuestionSummary(BaseModel):
    id: int
    type: str
    title: str
    points: float
    current_version: int
    category_id: int | None
    difficulty: str
    archived: bool
    tags: list[str]
    updated_at: datetime


class QuestionFilter(_Input):
    """Filters shared by the list and the export; every given filter must match."""

    q: str | None = Field(None, max_length=200, description="Title contains this (any case).")
    type: QuestionType | None = None
    tag: list[Tag] = Field(
        default_factory=list, max_length=MAX_TAGS, description="Has every tag given."
    )
    difficulty: Difficulty | None = None
    category_id: int | None = Field(None, ge=1)
    archived: bool | None = Field(False, description="Default: only active questions.")


class QuestionQuery(QuestionFilter):
    limit: int = Field(50, ge=1, le=1000, description="Capped by [questions] max_page_size.")
    offset: int = Field(0, ge=0, le=10_000_000)


class QuestionPage(BaseModel):
    items: list[QuestionSummary]
    total: int
    limit: int
    offset: int


class VersionQuery(_Input):
    version: int | None = Field(None, ge=1, description="An older version; default current.")


class CategoryIn(_Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    parent_id: int | None = Field(None, ge=1)


class CategoryOut(BaseModel):
    id: int
    name: str
    parent_id: int | None


Format = Literal["moodle_xml", "gift"]


class ExportQuery(QuestionFilter):
    format: Format


class ImportQuery(_Input):
    format: Format
    dry_run: bool = Field(False, description="Check the file and report; write nothing.")
    category_id: int | None = Field(
        None, ge=1, description="Put every question here (default: the file's categories)."
    )
    difficulty: Difficulty = Field("medium", description="For questions the file gives none.")
    tag: list[Tag] = Field(
        default_factory=list, max_length=5, description="Extra tags for every imported question."
    )
    skip_unsupported: bool = Field(
        False, description="Skip question types the bank lacks (reported) instead of failing."
    )

    @field_validator("tag")
    @classmethod
    def _dedupe_tags(cls, tags: list[str]) -> list[str]:
        return _dedupe(tags)


class ImportProblem(BaseModel):
    index: int = Field(description="Position of the question in the file, 1 = first.")
    name: str = Field(description="The question's name in the file, when it has one.")
    line: int | None = Field(None, description="Line where the question starts (GIFT).")
    message: str


class ImportResult(BaseModel):
    dry_run: bool
    created: int
    question_ids: list[int]
    warnings: list[ImportProblem] = Field(description="Imported, but something was dropped.")
    skipped: list[ImportProblem] = Field(description="Left out (with skip_unsupported).")
