"""The notify migration builds exactly the tables the models describe, and downgrades."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool
from sqlmodel import SQLModel

import plugins.notify.tables  # noqa: F401  (registers the tables in the metadata)
from storage.migrate import alembic_config, upgrade

DIRS = [Path(__file__).resolve().parents[2] / "plugins" / "notify" / "migrations"]
OURS = {
    "notify_messages",
    "notify_inbox",
    "notify_preferences",
    "notify_webhooks",
    "notify_scheduled",
    "notify_digest_items",
}


def _names(diff: object) -> set[str]:
    """Every table name a diff entry mentions (entries are nested tuples and lists)."""
    if isinstance(diff, str):
        return {diff}
    if isinstance(diff, list | tuple):
        return {name for part in diff for name in _names(part)}
    names = {getattr(diff, "name", None), getattr(getattr(diff, "table", None), "name", None)}
    return {n for n in names if isinstance(n, str)}


def test_migration_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url, DIRS)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, SQLModel.metadata) if OURS & _names(d)]
        assert diff == []
        assert set(inspect(connection).get_table_names()) >= OURS
    config = alembic_config(url, DIRS)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "notify@base")
    with engine.connect() as connection:
        assert not OURS & set(inspect(connection).get_table_names())
    engine.dispose()
