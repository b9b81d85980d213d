"""The Alembic revision builds the same tables the models describe: a column or index added to
``plugins/support/tables.py`` without a migration fails here, not on a production upgrade."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from core.services import Services
from plugins.support.tables import SupportTicket, TicketMessage


async def test_migrated_tables_match_the_models(services: Services) -> None:
    def read(connection: Any) -> dict[str, tuple[dict[str, bool], set[tuple[str, ...]]]]:
        inspector = inspect(connection)
        found = {}
        for name in ("support_tickets", "support_messages"):
            columns = {c["name"]: bool(c["nullable"]) for c in inspector.get_columns(name)}
            indexes = {tuple(i["column_names"]) for i in inspector.get_indexes(name)}
            found[name] = (columns, indexes)
        return found

    async with services.db.engine.connect() as connection:  # type: ignore[attr-defined]
        migrated = await connection.run_sync(read)
    for model in (SupportTicket, TicketMessage):
        table = model.__table__  # type: ignore[union-attr]
        columns = {c.name: bool(c.nullable) for c in table.columns}
        indexes = {tuple(c.name for c in i.columns) for i in table.indexes}
        assert migrated[table.name] == (columns, indexes), table.name
