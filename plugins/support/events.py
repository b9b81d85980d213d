"""Telling other plugins about tickets: ``ticket.created`` and ``ticket.replied``.

Events go out after the commit, so a listener never hears of a ticket that was rolled back.
Recipients are decided here, where the rules of the support desk live, and not by the
notifications plugin: a new ticket (or a candidate's reply nobody on staff has taken up yet)
goes to every active proctor and admin, since exams do not name their proctors; a candidate's
reply to a thread goes to the staff who already answered in it; a staff reply goes to the
candidate.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core import domain_events
from core.services import Services
from plugins.support.tables import SupportTicket, TicketMessage
from storage.tables.user import User

NOTIFIED_ROLES = ("proctor", "admin")
EXCERPT_CHARS = 200


def excerpt(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


async def desk(db: AsyncSession) -> list[int]:
    """Every active proctor and admin: who hears of a new ticket."""
    rows = await db.execute(
        select(col(User.id))
        .where(col(User.role).in_(NOTIFIED_ROLES), col(User.is_active).is_(True))
        .order_by(col(User.id))
    )
    return [int(user_id) for user_id in rows.scalars() if user_id is not None]


async def staff_in_thread(db: AsyncSession, ticket_id: int) -> list[int]:
    rows = await db.execute(
        select(col(TicketMessage.author_id))
        .where(
            col(TicketMessage.ticket_id) == ticket_id, col(TicketMessage.author_role) != "candidate"
        )
        .distinct()
    )
    return sorted(int(user_id) for user_id in rows.scalars())


async def recipients(
    db: AsyncSession, ticket: SupportTicket, *, by_staff: bool, first: bool
) -> list[int]:
    assert ticket.id is not None
    if by_staff:
        return [ticket.user_id]
    answered_by = [] if first else await staff_in_thread(db, ticket.id)
    return answered_by or await desk(db)


async def announce(
    services: Services,
    name: str,
    ticket: SupportTicket,
    message: TicketMessage,
    recipient_ids: list[int],
) -> None:
    await domain_events.emit(
        services,
        name,
        {
            "ticket_id": ticket.id,
            "exam_id": ticket.exam_id,
            "attempt_id": ticket.attempt_id,
            "item": ticket.item,
            "category": ticket.category,
            "status": ticket.status,
            "subject": ticket.subject,
            "author_id": message.author_id,
            "author_role": message.author_role,
            "recipient_ids": recipient_ids,
            "excerpt": excerpt(message.body),
            "url": f"/support/tickets/{ticket.id}",
        },
    )
