"""A third-party question generator registered through ``invigilator_question_generators``.

``scripted`` writes coding problems whose reference solutions the stand-in judge recognises,
a true/false question, crashes on multiple choice and refuses other types, so the job's
per-question error reporting and the reference check are exercised end to end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.hookspecs import hookimpl
from core.services import Services
from plugins.generation.backend import (
    Drafted,
    GeneratedType,
    GenerationFailed,
    GenerationRequest,
    Reference,
    UsageMeter,
    question_in,
)

REFERENCES = [
    "print(sum(map(int, input().split())))  # passes",
    "print(0)  # fails",
    "# no judge",
    "# judge down",
]


class ScriptedGenerator:
    name = "scripted"

    def __init__(self, services: Services) -> None:
        self.services = services

    async def generate(
        self,
        request: GenerationRequest,
        question_type: GeneratedType,
        number: int,
        usage: UsageMeter,
    ) -> Drafted:
        usage.add(100, 50)
        if question_type == "true_false":
            return Drafted(
                question=question_in(
                    {
                        "type": "true_false",
                        "title": f"Statement {number + 1}",
                        "body": "Water boils at 100 °C at sea level.",
                        "payload": {"type": "true_false", "answer": True},
                    }
                )
            )
        if question_type == "multiple_choice":
            raise RuntimeError("the plugin crashed")
        if question_type != "coding":
            raise GenerationFailed(f"the scripted generator writes no {question_type}")
        question = question_in(
            {
                "type": "coding",
                "title": f"Sum of numbers {number + 1}",
                "body": "Read two integers and print their sum.",
                "payload": {
                    "type": "coding",
                    "languages": [request.language],
                    "samples": [{"input": "1 2\n", "output": "3\n"}],
                    "hidden": [{"input": "5 7\n", "output": "12\n"}],
                },
            }
        )
        code = REFERENCES[number % len(REFERENCES)]
        return Drafted(question=question, reference=Reference(language=request.language, code=code))

    def cost(self, usage: UsageMeter) -> float:
        return usage.calls * 0.01

    async def close(self) -> None:
        return None


class RealReferenceGenerator(ScriptedGenerator):
    """The same coding problem with real programs as references, for the real judge: the
    first adds the two numbers, the second multiplies them (right on no test)."""

    name = "real-references"
    programs = (
        "a, b = map(int, input().split())\nprint(a + b)\n",
        "a, b = map(int, input().split())\nprint(a * b)\n",
    )

    async def generate(
        self,
        request: GenerationRequest,
        question_type: GeneratedType,
        number: int,
        usage: UsageMeter,
    ) -> Drafted:
        drafted = await super().generate(request, "coding", number, usage)
        code = self.programs[number % len(self.programs)]
        return Drafted(question=drafted.question, reference=Reference(language="python", code=code))


@hookimpl
def invigilator_question_generators() -> Mapping[str, Any]:
    return {"scripted": ScriptedGenerator, "real-references": RealReferenceGenerator}
