"""Which generators exist: the two built in plus those plugins register by hook.

``[generation] backend`` names one. Names are unique across plugins; a clash is a
configuration error, not a silent override, because it would change who receives the
examiner's material.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core.errors import ConfigError, InvalidInput
from core.services import Services
from plugins.generation.backend import Generator
from plugins.generation.config import GenerationConfig
from plugins.generation.offline import OfflineGenerator
from plugins.generation.openai_backend import OpenAIGenerator

Factory = Callable[[Services], Any]


def _builtins() -> dict[str, Factory]:
    return {
        "offline": lambda services: OfflineGenerator(),
        "openai": lambda services: OpenAIGenerator(
            services.section("generation", GenerationConfig).openai
        ),
    }


def factories(services: Services) -> dict[str, Factory]:
    found = _builtins()
    if services.plugins is None:
        return found
    answers: list[Mapping[str, Factory] | None] = (
        services.plugins.hook.invigilator_question_generators()
    )
    for answer in answers:
        for name, factory in (answer or {}).items():
            if name in found:
                raise ConfigError(f"two plugins register a question generator named {name!r}")
            found[name] = factory
    return found


def build(services: Services, name: str) -> Generator:
    """A fresh generator for one job (it may hold an HTTP session until ``close``)."""
    available = factories(services)
    if name not in available:
        raise InvalidInput(
            f"no question generator named {name!r}; available: {', '.join(sorted(available))}"
        )
    generator: Generator = available[name](services)
    return generator
