"""What each question type holds and what a candidate's response to it looks like.

A question version stores ``payload`` as JSON validated by :data:`QuestionPayload`, a union
discriminated by ``type``. The response models define what autosave accepts for each type, so a
malformed answer is rejected with 422 before it is stored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Difficulty = Literal["easy", "medium", "hard"]
OPTION_ID = r"^[a-z0-9]{1,8}$"


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=OPTION_ID, description="stable id, e.g. 'a'")
    text: str = Field(min_length=1, max_length=2000)
    correct: bool = False
    feedback: str = Field("", max_length=1000)


class _Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    options: list[Option] = Field(min_length=2, max_length=12)
    shuffle_options: bool = True

    @model_validator(mode="after")
    def _unique_ids(self) -> _Choice:
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError("option ids must be unique")
        return self


class SingleChoice(_Choice):
    type: Literal["single_choice"] = "single_choice"

    @model_validator(mode="after")
    def _one_correct(self) -> SingleChoice:
        if sum(o.correct for o in self.options) != 1:
            raise ValueError("a single-choice question needs exactly one correct option")
        return self


class MultipleChoice(_Choice):
    type: Literal["multiple_choice"] = "multiple_choice"
    scoring: Literal["all_or_nothing", "partial"] = Field(
        "partial",
        description="partial: each correct pick earns its share, each wrong pick loses one "
        "share (never below zero)",
    )

    @model_validator(mode="after")
    def _some_correct(self) -> MultipleChoice:
        if not any(o.correct for o in self.options):
            raise ValueError("a multiple-choice question needs at least one correct option")
        return self


class TrueFalse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["true_false"] = "true_false"
    answer: bool


class Numeric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["numeric"] = "numeric"
    answer: float
    tolerance: float = Field(0.0, ge=0, description="absolute tolerance")
    unit: str = Field("", max_length=20)


class AcceptedAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=500)
    match: Literal["exact", "case_insensitive", "regex"] = "case_insensitive"


class ShortAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["short_answer"] = "short_answer"
    accepted: list[AcceptedAnswer] = Field(min_length=1, max_length=20)


class RubricCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion: str = Field(min_length=1, max_length=200)
    points: float = Field(gt=0)
    description: str = Field("", max_length=1000)


class Essay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["essay"] = "essay"
    rubric: list[RubricCriterion] = Field(default_factory=list, max_length=20)
    min_words: int | None = Field(None, ge=0)
    max_words: int | None = Field(None, ge=1)


class TestCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str = Field("", max_length=100_000)
    output: str = Field(max_length=100_000)
    weight: float = Field(1.0, gt=0)


class Coding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["coding"] = "coding"
    languages: list[str] = Field(
        min_length=1, max_length=10, description="e.g. python, c, cpp, javascript"
    )
    starter_code: dict[str, str] = Field(default_factory=dict)
    samples: list[TestCase] = Field(
        default_factory=list, max_length=20, description="shown to the candidate"
    )
    hidden: list[TestCase] = Field(
        default_factory=list, max_length=200, description="never shown to the candidate"
    )
    time_limit_ms: int = Field(2000, ge=100, le=60_000)
    memory_limit_mb: int = Field(256, ge=16, le=4096)
    checker: Literal["exact", "whitespace", "float"] = "whitespace"


QuestionPayload = Annotated[
    SingleChoice | MultipleChoice | TrueFalse | Numeric | ShortAnswer | Essay | Coding,
    Field(discriminator="type"),
]
QuestionType = Literal[
    "single_choice", "multiple_choice", "true_false", "numeric", "short_answer", "essay", "coding"
]
OBJECTIVE_TYPES = frozenset(
    {"single_choice", "multiple_choice", "true_false", "numeric", "short_answer"}
)


class ChoiceResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    selected: list[str] = Field(default_factory=list, max_length=12)


class TrueFalseResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: bool | None = None


class NumericResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float | None = None


class TextResponse(BaseModel):
    """Short answers and essays (essays autosave drafts here)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field("", max_length=100_000)


class CodeResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str = Field(max_length=20)
    code: str = Field("", max_length=200_000)


RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    "single_choice": ChoiceResponse,
    "multiple_choice": ChoiceResponse,
    "true_false": TrueFalseResponse,
    "numeric": NumericResponse,
    "short_answer": TextResponse,
    "essay": TextResponse,
    "coding": CodeResponse,
}
