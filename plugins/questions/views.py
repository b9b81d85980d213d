"""What a candidate may see of a question version, and what shuffling needs to know.

The candidate's view is built by listing what to *include*, never by deleting secrets from a
copy of the payload: a field added to a payload model later (another kind of hidden test, say)
stays private until someone decides to show it here.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from plugins.questions.payloads import (
    Coding,
    Essay,
    MultipleChoice,
    Numeric,
    QuestionPayload,
    SingleChoice,
)
from plugins.questions.rendering import body_html, inline_html
from plugins.questions.tables import QuestionVersion

_PAYLOAD: TypeAdapter[Any] = TypeAdapter(QuestionPayload)


def candidate_view(
    version: QuestionVersion, option_order: list[str] | None = None, *, points: float | None = None
) -> dict[str, Any]:
    """The question as a candidate sees it: no correct flags, option feedback, accepted
    answers, explanation, rubric or hidden tests.

    ``option_order`` is the paper's order of option ids (a permutation of :func:`option_ids`;
    None keeps the stored order). ``points`` overrides the version's points when the exam's rule
    gives its own.
    """
    payload = _PAYLOAD.validate_python(version.payload)
    view: dict[str, Any] = {
        "version_id": version.id,
        "type": payload.type,
        "title": version.title,
        "body": version.body,
        "body_html": body_html(version.body),
        "points": version.points if points is None else points,
    }
    if isinstance(payload, SingleChoice | MultipleChoice):
        by_id = {o.id: o for o in payload.options}
        order = list(by_id) if option_order is None else option_order
        if sorted(order) != sorted(by_id):
            raise ValueError("option_order must list every option id exactly once")
        view["options"] = [
            {"id": i, "text": by_id[i].text, "text_html": inline_html(by_id[i].text)} for i in order
        ]
    elif isinstance(payload, Numeric):
        view["unit"] = payload.unit
    elif isinstance(payload, Essay):
        view["min_words"] = payload.min_words
        view["max_words"] = payload.max_words
    elif isinstance(payload, Coding):
        view["languages"] = list(payload.languages)
        view["starter_code"] = {
            lang: code for lang, code in payload.starter_code.items() if lang in payload.languages
        }
        view["samples"] = [{"input": s.input, "output": s.output} for s in payload.samples]
        view["time_limit_ms"] = payload.time_limit_ms
        view["memory_limit_mb"] = payload.memory_limit_mb
    return view


def shuffleable(version: QuestionVersion) -> bool:
    """Whether the paper may shuffle this question's options (choice types that allow it)."""
    payload = version.payload
    return payload.get("type") in ("single_choice", "multiple_choice") and bool(
        payload.get("shuffle_options", True)
    )


def option_ids(version: QuestionVersion) -> list[str]:
    """Option ids in stored order; empty for types without options."""
    return [str(option["id"]) for option in version.payload.get("options", [])]
