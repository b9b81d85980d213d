"""Admin API for the security audit log: filtered, newest first, paginated.

The log is append-only through this API (there is no route that changes or deletes a row).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import col

from plugins.accounts.models import AuditPage, AuditQuery, SecurityEventPublic
from plugins.accounts.tables import SecurityEvent
from webapp.routing import ApiRequest, Router

router = Router(prefix="/api/v1/audit", tags=["audit"])


def _utc(value: datetime) -> datetime:
    """A time without a zone is read as UTC, the zone the log is kept in."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get("", query=AuditQuery, response=AuditPage, roles={"admin"})
async def query_audit(req: ApiRequest[None, AuditQuery]) -> AuditPage:
    """Audit events matching every filter, newest first.

    ``kind`` is an exact kind (see ``KINDS`` in ``plugins/accounts/audit.py``), ``user_id``
    the user concerned; ``since`` is inclusive and ``until`` exclusive.
    """
    query = req.query
    conditions = []
    if query.kind is not None:
        conditions.append(col(SecurityEvent.kind) == query.kind)
    if query.user_id is not None:
        conditions.append(col(SecurityEvent.user_id) == query.user_id)
    if query.since is not None:
        conditions.append(col(SecurityEvent.ts) >= _utc(query.since))
    if query.until is not None:
        conditions.append(col(SecurityEvent.ts) < _utc(query.until))
    async with req.services.db.session() as db:
        total = (
            await db.execute(select(func.count()).select_from(SecurityEvent).where(*conditions))
        ).scalar_one()
        rows = await db.execute(
            select(SecurityEvent)
            .where(*conditions)
            .order_by(col(SecurityEvent.ts).desc(), col(SecurityEvent.id).desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        items = [
            SecurityEventPublic.model_validate(e, from_attributes=True) for e in rows.scalars()
        ]
    return AuditPage(items=items, total=int(total))
