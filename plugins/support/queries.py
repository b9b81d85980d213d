"""Reading tickets: the filtered list and one thread, as the API publishes them.

"Unread" is worked out in SQL from the ticket's newest message and the reader's side marker,
so the unread filter and the limit agree and a list never needs to open every thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from plugins.exams.tables import Exam
from plugins.support.access import Caller, visible_ticket
from plugins.support.schemas import MessagePublic, TicketList, TicketPublic, TicketQuery
from plugins.support.tables import SupportTicket, TicketMessage, utcnow
from storage.tables.user import User


def unread_clause(caller: Caller) -> Any:
    """News for ``caller``'s side: the other side wrote after this side last read."""
    if caller.staff:
        marker, other = col(SupportTicket.last_staff_read_at), "candidate"
    else:
        marker, other = col(SupportTicket.last_candidate_read_at), "staff"
    return and_(
        col(SupportTicket.last_message_role) == other,
        or_(marker.is_(None), marker < col(SupportTicket.last_message_at)),
    )


def _is_unread(ticket: SupportTicket, caller: Caller) -> bool:
    if caller.staff:
        marker, other = ticket.last_staff_read_at, "candidate"
    else:
        marker, other = ticket.last_candidate_read_at, "staff"
    return ticket.last_message_role == other and (marker is None or marker < ticket.last_message_at)


def to_public(
    ticket: SupportTicket,
    caller: Caller,
    *,
    candidate_name: str,
    exam_title: str | None,
    messages: list[MessagePublic] | None = None,
) -> TicketPublic:
    assert ticket.id is not None
    return TicketPublic.model_validate(
        {
            **ticket.model_dump(),
            "candidate_name": candidate_name,
            "exam_title": exam_title,
            "unread": _is_unread(ticket, caller),
            "messages": messages,
        }
    )


async def _messages(db: AsyncSession, ticket_ids: Sequence[int]) -> dict[int, list[MessagePublic]]:
    if not ticket_ids:
        return {}
    rows = await db.execute(
        select(TicketMessage, col(User.display_name))
        .join(User, col(User.id) == col(TicketMessage.author_id))
        .where(col(TicketMessage.ticket_id).in_(ticket_ids))
        .order_by(
            col(TicketMessage.ticket_id), col(TicketMessage.created_at), col(TicketMessage.id)
        )
    )
    found: dict[int, list[MessagePublic]] = {ticket_id: [] for ticket_id in ticket_ids}
    for message, name in rows.all():
        assert message.id is not None
        found[message.ticket_id].append(
            MessagePublic(
                id=message.id,
                author_id=message.author_id,
                author_role=message.author_role,
                author_name=name,
                body=message.body,
                created_at=message.created_at,
            )
        )
    return found


async def list_tickets(
    db: AsyncSession, caller: Caller, query: TicketQuery, poll_seconds: float
) -> TicketList:
    candidate = aliased(User)
    statement = (
        select(SupportTicket, col(candidate.display_name), col(Exam.title))
        .join(candidate, col(candidate.id) == col(SupportTicket.user_id))
        .outerjoin(Exam, col(Exam.id) == col(SupportTicket.exam_id))
        .order_by(col(SupportTicket.last_message_at).desc(), col(SupportTicket.id).desc())
        .limit(query.limit)
    )
    if not caller.staff:
        statement = statement.where(col(SupportTicket.user_id) == caller.user_id)
    if query.status == "active":
        statement = statement.where(col(SupportTicket.status) != "closed")
    elif query.status is not None:
        statement = statement.where(col(SupportTicket.status) == query.status)
    if query.exam_id is not None:
        statement = statement.where(col(SupportTicket.exam_id) == query.exam_id)
    if query.attempt_id is not None:
        statement = statement.where(col(SupportTicket.attempt_id) == query.attempt_id)
    if query.older_than_minutes is not None:
        cutoff = utcnow() - timedelta(minutes=query.older_than_minutes)
        statement = statement.where(col(SupportTicket.created_at) <= cutoff)
    if query.unread is not None:
        clause = unread_clause(caller)
        statement = statement.where(clause if query.unread else ~clause)
    rows = (await db.execute(statement)).all()
    threads = await _messages(db, [t.id for t, _, _ in rows if t.id]) if query.messages else {}
    tickets = [
        to_public(
            ticket,
            caller,
            candidate_name=name,
            exam_title=title,
            messages=threads.get(ticket.id or 0) if query.messages else None,
        )
        for ticket, name, title in rows
    ]
    return TicketList(
        tickets=tickets,
        unread=sum(1 for t in tickets if t.unread),
        poll_seconds=poll_seconds,
    )


async def thread(db: AsyncSession, caller: Caller, raw_id: str) -> TicketPublic:
    """One ticket with every message, oldest first (404 when not the caller's to see)."""
    ticket = await visible_ticket(db, raw_id, caller)
    assert ticket.id is not None
    owner = await db.get(User, ticket.user_id)
    exam = await db.get(Exam, ticket.exam_id) if ticket.exam_id is not None else None
    messages = (await _messages(db, [ticket.id]))[ticket.id]
    return to_public(
        ticket,
        caller,
        candidate_name=owner.display_name if owner is not None else f"#{ticket.user_id}",
        exam_title=exam.title if exam is not None else None,
        messages=messages,
    )
