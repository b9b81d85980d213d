"""The proctoring plugin: the peer registry's and live analysis's lifetime, settings, routes.

The registry lives in a module-level holder keyed by the services object rather than in a
global, so several apps in one process (tests) each get their own peers and limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, Field

from core.channels import SESSION_REVOKED
from core.events import Event
from core.hookspecs import hookimpl
from core.services import Services
from media.config import MediaConfig
from media.peer import PeerRegistry
from media.taps import Telemetry
from plugins.proctoring import (
    actions_api,
    ice_api,
    pages,
    proctor_api,
    signaling,
    tables,  # noqa: F401 (the tables join the metadata)
    watch,
)
from plugins.proctoring.analysis import CHECK_PREFIX, Analysis
from plugins.proctoring.candidate_api import endpoints as candidate_endpoints
from plugins.proctoring.candidate_api import invigilator_attempt_starting  # noqa: F401
from plugins.proctoring.feed import LiveFeed
from webapp.routing import Endpoint

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


class ProctoringConfig(MediaConfig):
    """``[proctoring]`` in plugins.toml: the media settings plus the analysis rate."""

    analysis_fps: float = Field(2.0, gt=0, le=30, description="frames analysed per second")


class _Running:
    def __init__(self, registry: PeerRegistry) -> None:
        self.registry = registry
        self.tasks: set[asyncio.Task[None]] = set()
        self.listener: asyncio.Task[None] | None = None
        self.analysis: Analysis | None = None
        self.feed: LiveFeed | None = None


_running: dict[int, _Running] = {}


def registry_for(services: Services) -> PeerRegistry | None:
    """This app's registry; None before start-up or after shutdown."""
    running = _running.get(id(services))
    return running.registry if running is not None else None


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {"proctoring": ProctoringConfig}


@hookimpl
def invigilator_routes() -> list[Endpoint]:
    return [
        *ice_api.router.endpoints,
        *signaling.router.endpoints,
        *signaling.pages.endpoints,
        *proctor_api.router.endpoints,
        *actions_api.router.endpoints,
        *watch.router.endpoints,
        *candidate_endpoints,
        *pages.router.endpoints,
    ]


@hookimpl
def invigilator_nav_items(roles: frozenset[str]) -> list[tuple[str, str]]:
    return pages.nav_items(roles)


@hookimpl
def invigilator_migration_dirs() -> Iterable[Path]:
    return [HERE / "migrations"]


@hookimpl
def invigilator_template_dirs() -> Iterable[Path]:
    return [HERE / "templates"]


@hookimpl
def invigilator_static_dirs() -> Mapping[str, Path]:
    return {"proctoring": HERE / "static"}


@hookimpl
async def invigilator_startup(services: Services) -> None:
    config = services.section("proctoring", ProctoringConfig)
    running: _Running

    def on_telemetry(attempt_id: str, message: Telemetry) -> None:
        # The data-channel callback is synchronous; the append is a tracked task so shutdown
        # can wait for it and nothing is left running on a closed event log.
        if attempt_id.startswith(CHECK_PREFIX):
            return  # a system check before the exam: nothing is recorded
        event = Event(
            kind=f"telemetry.{message.type}",
            attempt_id=attempt_id,
            source="proctoring",
            data=message.data,
        )
        task = asyncio.get_running_loop().create_task(_append(services, event))
        running.tasks.add(task)
        task.add_done_callback(running.tasks.discard)
        if running.analysis is not None:
            running.analysis.live.telemetry(attempt_id, message.type, dict(message.data))

    running = _Running(PeerRegistry(config, on_telemetry=on_telemetry))
    running.listener = asyncio.get_running_loop().create_task(_listen(services, running))
    _running[id(services)] = running
    running.feed = LiveFeed(services)
    running.feed.start()
    running.analysis = Analysis(services, running.registry, config.analysis_fps)
    await running.analysis.start()


def feed_for(services: Services) -> LiveFeed | None:
    """This app's fan-out of the live feed to proctor WebSockets; None when not running."""
    running = _running.get(id(services))
    return running.feed if running is not None else None


def analysis_for(services: Services) -> Analysis | None:
    """This app's live analysis (its pipeline and stats); None when not running."""
    running = _running.get(id(services))
    return running.analysis if running is not None else None


async def _append(services: Services, event: Event) -> None:
    try:
        await services.events.append([event])
    except Exception:  # a lost telemetry record must not take the peer down
        log.exception("proctoring: could not store %s", event.kind)


async def _listen(services: Services, running: _Running) -> None:
    """Close the peers of a revoked session: a signed-out person stops streaming at once."""
    while True:
        try:
            async with services.bus.subscribe(SESSION_REVOKED) as messages:
                async for raw in messages:
                    try:
                        session_id = str(json.loads(raw)["session_id"])
                    except (ValueError, KeyError, TypeError):
                        log.warning("ignored a malformed session.revoked message")
                        continue
                    await running.registry.close_where(session_id=session_id)
            return  # the bus closed: the process is stopping
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("proctoring: revocation listener failed; resubscribing")
            await asyncio.sleep(1)


@hookimpl
async def invigilator_shutdown(services: Services) -> None:
    running = _running.pop(id(services), None)
    if running is None:
        return
    if running.listener is not None:
        running.listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running.listener
    if running.analysis is not None:
        await running.analysis.stop()
    if running.feed is not None:
        await running.feed.stop()
    await running.registry.close_all()
    if running.tasks:
        await asyncio.gather(*running.tasks, return_exceptions=True)
