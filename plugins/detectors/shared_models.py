"""Native models shared by every detector of one process, one per configuration.

mediapipe's graphs are not safe to use from two threads at once and their native memory is not
given back when they are dropped, so building one per detector instance (or per thread) makes
each server start in a process cost tens of megabytes that never return: harmless for one
server, fatal for a test suite that starts hundreds. One model per configuration, used under
its own lock, costs one load per process and keeps calls from overlapping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any


class LockedModel:
    """A model whose ``process`` calls never overlap."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.lock = threading.Lock()

    def process(self, image: Any) -> Any:
        with self.lock:
            return self.model.process(image)


_models: dict[Hashable, LockedModel] = {}
_guard = threading.Lock()


def shared(key: Hashable, build: Callable[[], Any]) -> LockedModel:
    """The process's model for ``key``, built by ``build`` the first time it is asked for."""
    with _guard:
        model = _models.get(key)
        if model is None:
            model = LockedModel(build())
            _models[key] = model
        return model
