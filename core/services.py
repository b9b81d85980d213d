"""The bundle of opened backends handed to plugins at start-up and to every request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel

from core.errors import ConfigError
from core.ports import Backend, BlobStore, Bus, Cache, Database, EventLog, JobQueue
from core.settings import Settings

ConfigT = TypeVar("ConfigT", bound=BaseModel)


@dataclass
class Services:
    settings: Settings
    db: Database
    events: EventLog
    blobs: BlobStore
    cache: Cache
    bus: Bus
    jobs: JobQueue
    sections: dict[str, BaseModel] = field(default_factory=dict)

    def section(self, name: str, model: type[ConfigT]) -> ConfigT:
        """The validated ``plugins.toml`` section a plugin declared."""
        value = self.sections.get(name)
        if not isinstance(value, model):
            raise ConfigError(f"plugins.toml: section [{name}] is not declared as {model.__name__}")
        return value

    def backends(self) -> list[Backend]:
        """Each distinct backend once (cache, bus and jobs may share one adapter)."""
        seen: list[Backend] = []
        for backend in (self.db, self.events, self.blobs, self.cache, self.bus, self.jobs):
            if not any(backend is other for other in seen):
                seen.append(backend)
        return seen
