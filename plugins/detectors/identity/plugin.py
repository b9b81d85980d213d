"""The identity plugin: the detector, its rules, enrollment embeddings, verification routes.

How the pieces meet: the accounts plugin stores a candidate's reference photo and announces it;
:mod:`.references` turns it into an embedding; ``invigilator_attempt_context`` hands that
embedding to the detector with every frame of the candidate's attempts (``identity.reference``);
:mod:`.detector` compares the live face with it and its observations feed the two rules below;
:mod:`.api` serves the same comparison to a candidate before the exam and the latest status of
an attempt to proctors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import click
from pydantic import BaseModel

from core.hookspecs import hookimpl
from core.policy import Condition, Rule
from core.services import Services
from plugins.detectors.identity import api, faces, references
from plugins.detectors.identity.config import SECTION, IdentityConfig
from plugins.detectors.identity.detector import REFERENCE_KEY, IdentityDetector
from webapp.routing import Endpoint

SOURCES = ("observation.identity",)

RULES: tuple[Rule, ...] = (
    Rule(
        kind="identity_mismatch",
        detector="identity",
        label="Different person",
        shape="state",
        sources=SOURCES,
        when=Condition(field="status", value="mismatch"),
        # Two mismatching embeddings a look apart (the detector re-checks a first mismatch at
        # once), so one badly lit frame is not an accusation.
        min_duration_s=1,
        gap_s=0,
        # Embeddings arrive every interval_s (at most 30 s) while a face stays in view.
        stale_s=90,
        severity="high",
        weight=25,
        per_minute=10,
        max_points=60,
    ),
    Rule(
        kind="no_reference",
        detector="identity",
        label="No enrolled photo",
        shape="instant",
        sources=SOURCES,
        when=Condition(field="status", value="no_reference"),
        merge_s=3600,
        severity="low",
        # Informational: the wall says identity is not being checked; it never scores.
        weight=0,
        max_points=0,
    ),
)


_workers: dict[int, references.Worker] = {}


def _section(services: Services) -> IdentityConfig:
    return services.section(SECTION, IdentityConfig)


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {SECTION: IdentityConfig}


@hookimpl
def invigilator_register_detectors(services: Services) -> Iterable[IdentityDetector]:
    config = _section(services)
    faces.configure(config.embedding_processes)
    return [IdentityDetector(config)] if config.enabled else []


@hookimpl
def invigilator_register_rules() -> Iterable[Rule]:
    return RULES


@hookimpl
def invigilator_routes() -> list[Endpoint]:
    return list(api.router.endpoints)


@hookimpl
async def invigilator_attempt_context(
    services: Services, attempt_id: str, exam_id: int, user_id: int
) -> Mapping[str, Any] | None:
    """The candidate's enrolled embedding (computed now if the message about it was missed)."""
    config = _section(services)
    if not config.enabled:
        return None
    try:
        reference = await references.reference_for(services, config, user_id)
    except faces.ModelUnavailable:
        reference = None  # the detector failed to load too, and says so in plugins list
    return {REFERENCE_KEY: reference}


@hookimpl
async def invigilator_startup(services: Services) -> None:
    config = _section(services)
    if not config.enabled:
        return
    worker = references.Worker(services, config)
    _workers[id(services)] = worker
    worker.start()


@hookimpl
async def invigilator_shutdown(services: Services) -> None:
    worker = _workers.pop(id(services), None)
    if worker is not None:
        await worker.stop()


@click.group("identity")
def identity_cli() -> None:
    """Face identity: reference embeddings of enrolled photos."""


@identity_cli.command("backfill")
def backfill() -> None:
    """Embed every enrolled photo that has no embedding yet; delete orphaned embeddings."""
    stored = asyncio.run(_backfill())
    click.echo(f"embeddings stored: {stored}")


async def _backfill() -> int:
    from core.settings import load_settings  # noqa: PLC0415 (the CLI's composition root)
    from storage.migrate import upgrade_async  # noqa: PLC0415
    from storage.services import close_services, open_services, start_outbox  # noqa: PLC0415
    from webapp.app import load_plugin_manager  # noqa: PLC0415
    from webapp.lifecycle import plugin_jobs, plugin_migration_dirs  # noqa: PLC0415

    settings = load_settings()
    pm = load_plugin_manager(settings)
    await upgrade_async(settings.effective_database_url, plugin_migration_dirs(pm))
    services = await open_services(settings, jobs=plugin_jobs(pm), sections=pm.sections)
    services.plugins = pm
    start_outbox(services)
    try:
        return await references.catch_up(services, _section(services), datetime.now(UTC))
    finally:
        await close_services(services)


@hookimpl
def invigilator_cli_commands() -> Iterable[click.Command]:
    return [identity_cli]
