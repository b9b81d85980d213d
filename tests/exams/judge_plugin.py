"""A stand-in judge for the grading tests: it "runs" nothing, it recognises two programs.

Full marks for code that prints ``a + b``, a third for code that prints anything else, and no
answer (``None``) for code marked ``# ask a person``, so the item falls back to the queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.hookspecs import hookimpl
from core.services import Services

calls: list[dict[str, Any]] = []


@hookimpl
async def invigilator_grade_code(
    services: Services, payload: Mapping[str, Any], response: Mapping[str, Any]
) -> float | None:
    calls.append({"payload": dict(payload), "response": dict(response)})
    code = str(response.get("code", ""))
    if "# ask a person" in code:
        return None
    return 1.0 if "print(a + b)" in code else 1 / 3
