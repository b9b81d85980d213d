"""What people do with tickets: open one, reply, close or reopen, mark it read.

Status follows the conversation so nobody has to set it by hand: a staff reply makes a ticket
``answered``; a candidate's reply makes it ``open`` again, even when it was closed (their
problem is evidently not over). Staff must reopen a closed ticket before replying, so a stray
reply cannot wake a finished conversation behind the candidate's back.
"""

from __future__ import annotations

import math
import time

from core.errors import Conflict, InvalidInput
from core.services import Services
from plugins.exams import store
from plugins.support import events
from plugins.support.access import Caller, visible_ticket
from plugins.support.config import SupportConfig
from plugins.support.schemas import MAX_SUBJECT_CHARS, TicketCreate
from plugins.support.tables import SupportTicket, TicketMessage, utcnow
from webapp.errors import ApiError

clock = time.time  # tests move it


async def _check_rate(services: Services, user_id: int, config: SupportConfig) -> None:
    """A fixed window per person in the shared cache, so every process counts the same."""
    window = config.window_minutes * 60
    now = clock()
    index = int(now // window)
    count = await services.cache.incr(f"support:new:{user_id}:{index}", ttl=window + 5)
    if count > config.max_new_tickets:
        wait = max(1, math.ceil((index + 1) * window - now))
        raise ApiError(
            429,
            "too_many_tickets",
            f"you opened {config.max_new_tickets} tickets in {config.window_minutes} minutes; "
            f"wait {wait} s or add to an open ticket",
            {"retry_after": wait},
            {"Retry-After": str(wait)},
        )


def _subject(data: TicketCreate) -> str:
    subject = " ".join(data.subject.split())
    if subject:
        return subject
    first = " ".join(data.message.splitlines()[0].split())
    return first if len(first) <= 80 else first[:79] + "…"


async def create(
    services: Services, caller: Caller, data: TicketCreate, config: SupportConfig
) -> SupportTicket:
    """Open a ticket with its first message; tied to the caller's own attempt when given."""
    exam_id: int | None = None
    async with services.db.session() as db:
        if data.attempt_id is not None:
            attempt = await store.own_attempt(db, data.attempt_id, caller.user_id)
            exam_id = attempt.exam_id
            if data.item is not None and data.item >= len(attempt.paper):
                raise InvalidInput(
                    f"attempt {attempt.id} has no question {data.item}",
                    details={"item": data.item, "items": len(attempt.paper)},
                )
        elif data.item is not None:
            raise InvalidInput("a question can only be named together with its attempt_id")
        await _check_rate(services, caller.user_id, config)
        now = utcnow()
        ticket = SupportTicket(
            user_id=caller.user_id,
            exam_id=exam_id,
            attempt_id=data.attempt_id,
            item=data.item,
            category=data.category,
            subject=_subject(data)[:MAX_SUBJECT_CHARS],
            created_at=now,
            updated_at=now,
            last_message_at=now,
            last_message_role="candidate",
            message_count=1,
            last_candidate_read_at=now,
        )
        db.add(ticket)
        await db.flush()
        assert ticket.id is not None
        message = TicketMessage(
            ticket_id=ticket.id,
            author_id=caller.user_id,
            author_role=caller.role,
            body=data.message,
            created_at=now,
        )
        db.add(message)
        await db.commit()
        await db.refresh(ticket)
        notify = await events.recipients(db, ticket, by_staff=False, first=True)
    await events.announce(services, "ticket.created", ticket, message, notify)
    return ticket


async def reply(services: Services, caller: Caller, raw_id: str, body: str) -> SupportTicket:
    async with services.db.session() as db:
        ticket = await visible_ticket(db, raw_id, caller)
        if caller.staff and ticket.status == "closed":
            raise Conflict(f"ticket {ticket.id} is closed; reopen it before replying")
        assert ticket.id is not None
        now = utcnow()
        message = TicketMessage(
            ticket_id=ticket.id,
            author_id=caller.user_id,
            author_role=caller.role,
            body=body,
            created_at=now,
        )
        db.add(message)
        ticket.status = "answered" if caller.staff else "open"
        ticket.updated_at = ticket.last_message_at = now
        ticket.last_message_role = caller.side
        ticket.message_count += 1
        if caller.staff:
            ticket.last_staff_read_at = now
        else:
            ticket.last_candidate_read_at = now
        db.add(ticket)
        await db.commit()
        await db.refresh(ticket)
        notify = await events.recipients(db, ticket, by_staff=caller.staff, first=False)
    await events.announce(services, "ticket.replied", ticket, message, notify)
    return ticket


async def change_status(
    services: Services, caller: Caller, raw_id: str, status: str
) -> SupportTicket:
    """Close or reopen; asking for the state it is already in changes nothing."""
    async with services.db.session() as db:
        ticket = await visible_ticket(db, raw_id, caller)
        if status == "closed" and ticket.status != "closed":
            ticket.status = "closed"
        elif status == "open" and ticket.status == "closed":
            ticket.status = "open"
        else:
            return ticket
        ticket.updated_at = utcnow()
        db.add(ticket)
        await db.commit()
        await db.refresh(ticket)
    return ticket


async def mark_read(services: Services, caller: Caller, raw_id: str) -> None:
    async with services.db.session() as db:
        ticket = await visible_ticket(db, raw_id, caller)
        if caller.staff:
            ticket.last_staff_read_at = utcnow()
        else:
            ticket.last_candidate_read_at = utcnow()
        db.add(ticket)
        await db.commit()
