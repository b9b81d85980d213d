"""Who is asking, and which tickets they may touch.

Staff (proctors, examiners, admins) see every ticket: exams do not name their proctors, and a
candidate stuck mid-exam is best served by whoever is watching. A candidate sees only their
own, and another person's ticket answers the same 404 as a missing one, so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, NotFound
from plugins.support.tables import SupportTicket
from webapp.binding import principal_of
from webapp.routing import ApiRequest

STAFF = frozenset({"proctor", "examiner", "admin"})
CANDIDATE = frozenset({"candidate"})
EVERYONE = STAFF | CANDIDATE
# The role written beside a message when someone holds several: the most senior one.
_RANK = ("admin", "examiner", "proctor", "candidate")


@dataclass(frozen=True)
class Caller:
    user_id: int
    role: str

    @property
    def staff(self) -> bool:
        return self.role in STAFF

    @property
    def side(self) -> str:
        """``staff`` or ``candidate``: whose read marker this person moves."""
        return "staff" if self.staff else "candidate"


def caller_of(req: ApiRequest[Any, Any]) -> Caller:
    principal = principal_of(req.request)
    if principal is None:  # the binding already refused anonymous callers
        raise Forbidden("sign in first")
    try:
        user_id = int(principal.user_id)
    except ValueError:
        raise Forbidden("support tickets need a user account") from None
    role = next((r for r in _RANK if r in principal.roles), "")
    if not role:
        raise Forbidden("your role cannot use support tickets")
    return Caller(user_id=user_id, role=role)


def ticket_id_of(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"ticket {raw[:40]!r} does not exist")
    return int(raw)


async def visible_ticket(db: AsyncSession, raw_id: str, caller: Caller) -> SupportTicket:
    """The ticket if ``caller`` may see it, else 404."""
    ticket_id = ticket_id_of(raw_id)
    ticket = await db.get(SupportTicket, ticket_id)
    if ticket is None or (not caller.staff and ticket.user_id != caller.user_id):
        raise NotFound(f"ticket {ticket_id} does not exist")
    return ticket
