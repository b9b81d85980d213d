"""An exam's ``proctoring_policy``: validated when written, read leniently.

The policy's model lives in the kernel (:class:`core.policy.ProctoringPolicy`) because live
proctoring runs it; the exams plugin only stores it. Validating on every write means the
proctoring plugin can trust what it reads, and a typo (an unknown rule, a weight over 100) is a
422 naming the field rather than a rule that silently never fires. What is stored is what the
examiner set (``exclude_unset``), so ``{}`` stays ``{}`` and a later change of a default in
the catalogue still applies to exams that did not override it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from core.policy import ProctoringPolicy
from plugins.exams.errors import InvalidPolicy


def validated(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The policy as it is stored, or ``422 invalid_policy`` naming each problem."""
    try:
        policy = ProctoringPolicy.model_validate(dict(raw))
    except ValidationError as error:
        problems = [
            {
                "loc": ["body", "proctoring_policy", *e["loc"]],
                "msg": e["msg"].removeprefix("Value error, "),
                "type": e["type"],
            }
            for e in error.errors(include_url=False, include_input=False, include_context=False)
        ]
        first = problems[0]
        where = ".".join(str(part) for part in first["loc"][2:])
        text = f"{where}: {first['msg']}" if where else str(first["msg"])
        raise InvalidPolicy(f"proctoring_policy is not valid: {text}", details=problems) from None
    return policy.model_dump(mode="json", exclude_unset=True)


def is_proctored(raw: Mapping[str, Any] | None) -> bool:
    """Whether live proctoring is on for the exam (``enabled`` is true).

    Read without validating: a policy stored before validation existed must not break the
    candidate's exam list.
    """
    return raw is not None and raw.get("enabled") is True
