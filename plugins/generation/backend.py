"""What a question generator is: the shape every backend (built-in or from a plugin) has.

A generator writes ONE question per call. The job calls it once per requested question, so a
failure belongs to that question alone (it is recorded and reported, the others go on) and the
progress bar moves one step per answer. Generators return :class:`Drafted` content that the
bank's own models have already accepted; anything else is a :class:`GenerationFailed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from plugins.questions.models import QuestionIn
from plugins.questions.payloads import Difficulty

GeneratedType = Literal[
    "single_choice", "multiple_choice", "true_false", "short_answer", "essay", "coding"
]
GENERATED_TYPES: tuple[GeneratedType, ...] = (
    "single_choice",
    "multiple_choice",
    "true_false",
    "short_answer",
    "essay",
    "coding",
)
SourceKind = Literal["topic", "syllabus", "material", "file"]


class GenerationFailed(Exception):
    """This one question could not be written; the message says why, in words."""


class Reference(BaseModel):
    """A coding problem's reference solution, run in the judge before the draft is offered."""

    model_config = ConfigDict(extra="forbid")

    language: str = Field(min_length=1, max_length=20)
    code: str = Field(min_length=1, max_length=100_000)


class Drafted(BaseModel):
    """One generated question: bank-valid content plus what only a draft carries."""

    question: QuestionIn
    reference: Reference | None = None


@dataclass(frozen=True)
class GenerationRequest:
    """What the examiner asked for. ``text`` is the topic, syllabus or material text."""

    source_kind: SourceKind
    text: str
    difficulty: Difficulty
    language: str = "python"
    avoid_titles: tuple[str, ...] = ()


@dataclass
class UsageMeter:
    """Tokens a job has spent so far; generators add to it on every answer they get, including
    the answers they had to reject, because those were paid for too."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, prompt: int, completion: int) -> None:
        self.prompt_tokens += max(prompt, 0)
        self.completion_tokens += max(completion, 0)
        self.calls += 1


class Generator(Protocol):
    """The object an ``invigilator_question_generators`` factory returns."""

    name: str

    async def generate(
        self,
        request: GenerationRequest,
        question_type: GeneratedType,
        number: int,
        usage: UsageMeter,
    ) -> Drafted:
        """Write question ``number`` (0-based, per type) of ``question_type``; raise
        :class:`GenerationFailed` when it cannot."""
        ...

    def cost(self, usage: UsageMeter) -> float:
        """What ``usage`` cost in the configured currency (0 for free backends)."""
        ...

    async def close(self) -> None:
        """Release clients (HTTP sessions) at the end of a job."""
        ...


def question_in(data: dict[str, Any]) -> QuestionIn:
    """Validate assembled content with the bank's one definition of a valid new question."""
    return QuestionIn.model_validate(data)
