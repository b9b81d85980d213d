"""The support API under ``/api/v1/support``.

Reads answer with an ``ETag``: the candidate's help panel polls during the exam, and a poll
that finds nothing new gets a bodiless ``304`` instead of the whole thread again. Polling was
chosen over a WebSocket because a reply a few seconds late is fine here, and it works through
every proxy and reconnects by itself.
"""

from __future__ import annotations

import hashlib

from aiohttp import web
from pydantic import BaseModel

from plugins.support import queries, tickets
from plugins.support.access import CANDIDATE, EVERYONE, caller_of
from plugins.support.config import SupportConfig
from plugins.support.schemas import (
    MessageCreate,
    StatusChange,
    TicketCreate,
    TicketList,
    TicketPublic,
    TicketQuery,
)
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/support", tags=["support"])
NOT_FOUND = ErrorSpec(404, "not_found", "no such ticket, or not yours")
INVALID = ErrorSpec(422, "validation_error", "empty message, over 5000 characters, bad category")
TICKET = "/tickets/{ticket_id}"


def _config(req: ApiRequest) -> SupportConfig:
    return req.services.section("support", SupportConfig)


def tagged(req: ApiRequest, model: BaseModel) -> web.Response:
    """The JSON answer with a content ETag; ``304`` when the caller already holds it."""
    body = model.model_dump_json().encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in {v.strip() for v in req.request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)


async def _thread(req: ApiRequest, ticket_id: int | None) -> TicketPublic:
    async with req.services.db.session() as db:
        return await queries.thread(db, caller_of(req), str(ticket_id))


@router.post(
    "/tickets",
    body=TicketCreate,
    response=TicketPublic,
    status=201,
    roles=CANDIDATE,
    errors=[
        ErrorSpec(404, "not_found", "the attempt is not the caller's"),
        INVALID,
        ErrorSpec(422, "invalid_input", "the question is not in that attempt"),
        ErrorSpec(429, "too_many_tickets", "too many new tickets; wait Retry-After seconds"),
    ],
)
async def open_ticket(req: ApiRequest[TicketCreate, None]) -> TicketPublic:
    """Ask for help: a new ticket with its first message.

    Raised from an exam, it carries ``attempt_id`` (which must be the caller's) and optionally
    the question's position ``item``; the exam is taken from the attempt.
    """
    ticket = await tickets.create(req.services, caller_of(req), req.body, _config(req))
    return await _thread(req, ticket.id)


@router.get("/tickets", query=TicketQuery, response=TicketList, roles=EVERYONE)
async def list_tickets(req: ApiRequest[None, TicketQuery]) -> web.Response:
    """Tickets, newest activity first: a candidate's own, or every ticket for staff.

    Filters combine; ``messages=true`` includes each thread (the help panel's one poll).
    Send ``If-None-Match`` with the last ``ETag`` to get ``304`` when nothing changed.
    """
    async with req.services.db.session() as db:
        found = await queries.list_tickets(db, caller_of(req), req.query, _config(req).poll_seconds)
    return tagged(req, found)


@router.get(TICKET, response=TicketPublic, roles=EVERYONE, errors=[NOT_FOUND])
async def get_ticket(req: ApiRequest) -> web.Response:
    """One ticket and its messages, oldest first, each with its author's role."""
    async with req.services.db.session() as db:
        found = await queries.thread(db, caller_of(req), req.path["ticket_id"])
    return tagged(req, found)


@router.post(
    TICKET + "/messages",
    body=MessageCreate,
    response=TicketPublic,
    status=201,
    roles=EVERYONE,
    errors=[
        NOT_FOUND,
        INVALID,
        ErrorSpec(409, "conflict", "staff replying to a closed ticket must reopen it first"),
    ],
)
async def reply(req: ApiRequest[MessageCreate, None]) -> TicketPublic:
    """Add to the conversation: a staff reply marks it answered, a candidate's reopens it."""
    ticket = await tickets.reply(req.services, caller_of(req), req.path["ticket_id"], req.body.body)
    return await _thread(req, ticket.id)


@router.put(
    TICKET + "/status",
    body=StatusChange,
    response=TicketPublic,
    roles=EVERYONE,
    errors=[NOT_FOUND, INVALID],
)
async def set_status(req: ApiRequest[StatusChange, None]) -> TicketPublic:
    """Close a ticket, or reopen a closed one (either side may)."""
    ticket = await tickets.change_status(
        req.services, caller_of(req), req.path["ticket_id"], req.body.status
    )
    return await _thread(req, ticket.id)


@router.post(TICKET + "/read", status=204, roles=EVERYONE, errors=[NOT_FOUND])
async def mark_read(req: ApiRequest) -> None:
    """Mark the ticket read for the caller's side (staff share one marker)."""
    await tickets.mark_read(req.services, caller_of(req), req.path["ticket_id"])
