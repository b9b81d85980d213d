"""A stand-in judge for the generation tests: it runs nothing, it recognises programs.

A reference containing ``# passes`` scores 1.0, ``# fails`` scores 0.25 and ``# no judge``
gets no answer (as when no judge is installed), and ``# judge down`` raises, as a judge does
when its backend is unreachable. The real judge has its own tests.
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
    if "# judge down" in code:
        raise ConnectionError("sandbox unreachable")
    if "# no judge" in code:
        return None
    return 1.0 if "# passes" in code else 0.25
