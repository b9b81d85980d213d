"""The bundle of opened backends handed to plugins at start-up and to every request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from core.audio import AnyDetector
from core.errors import ConfigError
from core.plugin_manager import InvigilatorPluginManager
from core.ports import Backend, BlobStore, Bus, Cache, Database, EventLog, JobQueue
from core.settings import Settings

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

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
    # Filled at start-up from ``invigilator_register_detectors``, before plugin start-up hooks,
    # so the plugin that runs the pipeline needs no handle on the plugin manager.
    detectors: list[AnyDetector] = field(default_factory=list)  # video and audio
    detector_failures: dict[str, str] = field(default_factory=dict)  # name -> reason
    # The web app's Prometheus registry (None in the CLI worker): plugins add collectors to it.
    metrics: CollectorRegistry | None = None
    # The plugin manager this process booted with, so code running outside a request (jobs,
    # background tasks) can call hooks without building a second one.
    plugins: InvigilatorPluginManager | None = None

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
