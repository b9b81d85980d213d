"""Which backend runs code in this process: built from ``[judge] backend`` on first use.

Backends come from ``invigilator_judge_backends`` (the judge plugin registers the built-in
ones the same way a third party registers its own), keyed by name. The chosen one is built
lazily and kept per opened services, so the web process and ``invigilator worker`` each build
their own, and a backend that cannot be built (its module missing, its tool absent) answers
:class:`JudgeUnavailable` to every run instead of failing the boot.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

from core.services import Services
from plugins.judge.backend import JudgeBackend, JudgeUnavailable
from plugins.judge.config import JudgeConfig

log = logging.getLogger(__name__)

Factory = Callable[[Services], Any]

_built: dict[int, JudgeBackend] = {}
_locks: dict[int, asyncio.Lock] = {}


def _local(services: Services) -> JudgeBackend:
    from plugins.judge.local import LocalJudge  # noqa: PLC0415 (optional piece)

    settings = services.section("judge", JudgeConfig).backend_settings("local")
    build: Any = LocalJudge  # takes its own config model, which backend_settings built
    return cast(JudgeBackend, build(settings))


def _judge0(services: Services) -> JudgeBackend:
    from plugins.judge.judge0 import Judge0Judge  # noqa: PLC0415 (optional piece)

    settings = services.section("judge", JudgeConfig).backend_settings("judge0")
    build: Any = Judge0Judge  # takes its own config model, which backend_settings built
    return cast(JudgeBackend, build(settings))


def _sphere(services: Services) -> JudgeBackend:
    from plugins.judge.sphere import SphereJudge  # noqa: PLC0415 (optional piece)

    settings = services.section("judge", JudgeConfig).backend_settings("sphere")
    build: Any = SphereJudge  # takes its own config model, which backend_settings built
    return cast(JudgeBackend, build(settings))


BUILTIN: dict[str, Factory] = {"local": _local, "judge0": _judge0, "sphere": _sphere}


def factories(services: Services) -> dict[str, Factory]:
    """Every registered backend factory by name (built-ins only without a plugin manager)."""
    if services.plugins is None:
        return dict(BUILTIN)
    found: dict[str, Factory] = {}
    for answer in services.plugins.hook.invigilator_judge_backends():
        for name, factory in dict(cast(Mapping[str, Factory], answer or {})).items():
            if name in found:
                raise JudgeUnavailable(f"two plugins register the judge backend {name!r}")
            found[name] = factory
    return found


async def backend(services: Services) -> JudgeBackend:
    """The configured backend, built on first use; :class:`JudgeUnavailable` when it cannot be."""
    key = id(services)
    if key in _built:
        return _built[key]
    async with _locks.setdefault(key, asyncio.Lock()):
        if key in _built:
            return _built[key]
        name = services.section("judge", JudgeConfig).backend
        factory = factories(services).get(name)
        if factory is None:
            raise JudgeUnavailable(f"no judge backend is named {name!r}")
        try:
            made = factory(services)
            if inspect.isawaitable(made):
                made = await made
        except JudgeUnavailable:
            raise
        except Exception as error:  # a missing module or tool: say so, retry later
            raise JudgeUnavailable(f"the {name!r} judge backend cannot start: {error}") from error
        _built[key] = cast(JudgeBackend, made)
        return _built[key]


async def close(services: Services) -> None:
    _locks.pop(id(services), None)
    built = _built.pop(id(services), None)
    if built is not None:
        try:
            await built.close()
        except Exception:
            log.exception("judge: closing the %s backend failed", built.name)
