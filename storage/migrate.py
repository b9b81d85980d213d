"""Schema migrations: Alembic revisions of the kernel plus every plugin's version folder.

Runs over a synchronous driver (sqlite3 / PyMySQL) in a worker thread, so it can be called from
inside the server's event loop at start-up as well as from the ``invigilator migrate`` command.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from storage.database import sync_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str, extra_version_dirs: Iterable[Path] = ()) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    locations = [MIGRATIONS_DIR / "versions", *extra_version_dirs]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    config.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    return config


def _ensure_sqlite_folder(database_url: str) -> None:
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)


def upgrade(
    database_url: str, extra_version_dirs: Iterable[Path] = (), revision: str = "heads"
) -> None:
    """Bring the schema to ``revision`` (default: every head)."""
    _ensure_sqlite_folder(database_url)
    config = alembic_config(database_url, extra_version_dirs)
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def pending_revisions(database_url: str, extra_version_dirs: Iterable[Path] = ()) -> list[str]:
    """Heads not yet applied; empty when the schema is current."""
    config = alembic_config(database_url, extra_version_dirs)
    script = ScriptDirectory.from_config(config)
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        return sorted(script.get_heads())  # no file yet: nothing applied (and create nothing)
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    heads = set(script.get_heads())
    applied: set[str] = set()
    for rev in current:
        applied.update(r.revision for r in script.iterate_revisions(rev, "base"))
    return sorted(heads - applied)


async def upgrade_async(database_url: str, extra_version_dirs: Iterable[Path] = ()) -> None:
    await asyncio.to_thread(upgrade, database_url, list(extra_version_dirs))


async def pending_async(database_url: str, extra_version_dirs: Iterable[Path] = ()) -> list[str]:
    return await asyncio.to_thread(pending_revisions, database_url, list(extra_version_dirs))
