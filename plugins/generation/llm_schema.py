"""What a chat model is asked to answer, per question type, and how its answer becomes a draft.

The model answers in a flat shape made for it (options without ids, accepted answers as plain
strings, one reference solution), not in the bank's payload: a small schema is easier for a
model to fill and for ``strict`` JSON-schema decoding to enforce. Every field is required and
no other is allowed, as OpenAI's strict mode demands. The answer is then assembled into the
bank's own :class:`~plugins.questions.models.QuestionIn`, so a draft is valid bank content.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from plugins.generation.backend import Drafted, GeneratedType, Reference, question_in
from plugins.questions.payloads import Difficulty

OPTION_IDS = "abcdefghijkl"
_TAG_CHARS = re.compile(r"[^\w .:+#/-]")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Common(_Strict):
    title: str = Field(description="Short title for the question bank, at most 120 characters")
    body: str = Field(description="The question as the candidate reads it (Markdown)")
    explanation: str = Field(description="Why the answer is right; shown after the exam")
    tags: list[str] = Field(description="Two to four short lower-case topic tags")
    difficulty: Difficulty


class ChoiceOption(_Strict):
    text: str
    correct: bool
    feedback: str = Field(description="Why this option is right or wrong")


class ChoiceAnswer(_Common):
    options: list[ChoiceOption] = Field(description="Four options with plausible distractors")


class TrueFalseAnswer(_Common):
    answer: bool


class ShortAnswerAnswer(_Common):
    accepted_answers: list[str] = Field(description="Every wording that earns the mark")


class Criterion(_Strict):
    criterion: str
    points: float
    description: str


class EssayAnswer(_Common):
    rubric: list[Criterion]
    min_words: int
    max_words: int


class CodeTest(_Strict):
    input: str = Field(description="Exact standard input")
    output: str = Field(description="Exact expected standard output")


class CodingAnswer(_Common):
    language: str = Field(description="Language of the reference solution, e.g. python")
    starter_code: str
    samples: list[CodeTest] = Field(description="One to three tests shown to the candidate")
    hidden: list[CodeTest] = Field(description="Three to ten tests kept secret")
    reference_solution: str = Field(description="A complete program that passes every test")


ANSWER_MODELS: dict[str, type[_Common]] = {
    "single_choice": ChoiceAnswer,
    "multiple_choice": ChoiceAnswer,
    "true_false": TrueFalseAnswer,
    "short_answer": ShortAnswerAnswer,
    "essay": EssayAnswer,
    "coding": CodingAnswer,
}
INSTRUCTIONS: dict[str, str] = {
    "single_choice": "a single-choice question: exactly one correct option and three plausible "
    "distractors that a student with a typical misconception would pick",
    "multiple_choice": "a multiple-choice question: four to five options, at least two correct, "
    "distractors plausible",
    "true_false": "a true/false statement that tests understanding, not wording",
    "short_answer": "a short-answer question whose answer is a word or short phrase; list every "
    "acceptable wording",
    "essay": "an essay prompt with a marking rubric of three to five criteria with points",
    "coding": "a programming problem reading standard input and writing standard output, with "
    "sample tests, hidden tests and a reference solution that passes all of them",
}


def schema_for(question_type: GeneratedType) -> dict[str, Any]:
    return ANSWER_MODELS[question_type].model_json_schema()


def response_format(
    question_type: GeneratedType, mode: Literal["json_schema", "json_object"]
) -> dict[str, Any]:
    """The ``response_format`` of the chat request for this type."""
    if mode == "json_object":
        return {"type": "json_object"}
    return {
        "type": "json_schema",
        "json_schema": {"name": question_type, "schema": schema_for(question_type), "strict": True},
    }


def to_drafted(question_type: GeneratedType, answer: _Common) -> Drafted:
    """The model's answer as bank content; raises ``ValueError`` when the bank refuses it."""
    content: dict[str, Any] = {
        "type": question_type,
        "title": answer.title.strip()[:200],
        "body": answer.body,
        "explanation": answer.explanation,
        "tags": clean_tags(answer.tags),
        "difficulty": answer.difficulty,
    }
    reference = None
    if isinstance(answer, ChoiceAnswer):
        options = [
            {"id": OPTION_IDS[i], "text": o.text, "correct": o.correct, "feedback": o.feedback}
            for i, o in enumerate(answer.options[: len(OPTION_IDS)])
        ]
        content["payload"] = {"type": question_type, "options": options}
    elif isinstance(answer, TrueFalseAnswer):
        content["payload"] = {"type": "true_false", "answer": answer.answer}
    elif isinstance(answer, ShortAnswerAnswer):
        accepted = [{"value": a.strip()} for a in answer.accepted_answers if a.strip()]
        content["payload"] = {"type": "short_answer", "accepted": accepted}
    elif isinstance(answer, EssayAnswer):
        content["payload"] = {
            "type": "essay",
            "rubric": [c.model_dump() for c in answer.rubric],
            "min_words": answer.min_words or None,
            "max_words": answer.max_words or None,
        }
        total = sum(c.points for c in answer.rubric)
        if total > 0:
            content["points"] = total
    elif isinstance(answer, CodingAnswer):
        language = answer.language.strip().lower()
        content["payload"] = {
            "type": "coding",
            "languages": [language],
            "starter_code": {language: answer.starter_code} if answer.starter_code else {},
            "samples": [t.model_dump() for t in answer.samples],
            "hidden": [t.model_dump() for t in answer.hidden],
        }
        if not answer.hidden:
            raise ValueError("hidden: a coding problem needs at least one hidden test")
        reference = Reference(language=language, code=answer.reference_solution)
    return Drafted(question=question_in(content), reference=reference)


def clean_tags(tags: list[str]) -> list[str]:
    """Tags the bank accepts: lower-case, allowed characters only, at most five, plus
    ``generated`` so generated questions stay findable after approval."""
    cleaned = ["generated"]
    for raw in tags:
        tag = _TAG_CHARS.sub("", raw.strip().lower())[:64].strip()
        if tag and (tag[0].isalnum() or tag[0] == "_") and tag not in cleaned:
            cleaned.append(tag)
    return cleaned[:6]
