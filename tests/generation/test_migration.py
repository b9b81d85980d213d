"""The generation migration builds exactly the tables the models describe, and downgrades."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool
from sqlmodel import SQLModel

import plugins.generation.tables  # noqa: F401  (registers the tables in the metadata)
from storage.migrate import alembic_config, upgrade

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
DIRS = [PLUGINS / "questions" / "migrations", PLUGINS / "generation" / "migrations"]
OURS = {"generation_jobs", "question_drafts"}


def test_migration_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url, DIRS)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = [
            d
            for d in compare_metadata(context, SQLModel.metadata)
            if OURS & {getattr(part, "name", None) for part in _parts(d)}
        ]
        assert diff == []
        assert set(inspect(connection).get_table_names()) >= OURS
    config = alembic_config(url, DIRS)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "generation@base")
    with engine.connect() as connection:
        assert not OURS & set(inspect(connection).get_table_names())
    engine.dispose()


def _parts(diff: object) -> list[object]:
    """The tables/columns/indexes a diff entry mentions (entries are tuples or lists)."""
    if isinstance(diff, list):
        return [p for item in diff for p in _parts(item)]
    parts = list(diff) if isinstance(diff, tuple) else [diff]
    found = []
    for part in parts:
        found.append(part)
        table = getattr(part, "table", None)
        if table is not None:
            found.append(table)
    return found
