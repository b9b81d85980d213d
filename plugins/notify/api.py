"""A person's notifications: the in-app inbox and their preferences."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import col

from core.errors import InvalidInput, NotFound
from plugins.exams import store
from plugins.notify import catalog, clock, inapp
from plugins.notify.live_ws import SIGNED_IN
from plugins.notify.schemas import (
    CategoryChoice,
    Inbox,
    InboxItem,
    InboxQuery,
    Preferences,
    PreferencesIn,
)
from plugins.notify.tables import NotifyInbox, NotifyPreference
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/notifications", tags=["notifications"])
USER_CHANNELS = ("email", "sms", "inapp")
ALERTED = frozenset({"proctor", "examiner", "admin"})  # who may see violation alerts


@router.get("", query=InboxQuery, response=Inbox, roles=SIGNED_IN)
async def my_inbox(req: ApiRequest[None, InboxQuery]) -> Inbox:
    """My in-app notifications, newest first, with the unread count the bell shows."""
    user_id = store.caller_id(req)
    conditions = [col(NotifyInbox.user_id) == user_id]
    if req.query.unread:
        conditions.append(col(NotifyInbox.read_at).is_(None))
    async with req.services.db.session() as db:
        rows = await db.execute(
            select(NotifyInbox)
            .where(*conditions)
            .order_by(col(NotifyInbox.id).desc())
            .limit(req.query.limit)
        )
        items = [InboxItem.model_validate(inapp.public(r)) for r in rows.scalars()]
        return Inbox(items=items, unread=await inapp.unread(db, user_id))


@router.post(
    "/{notification_id}/read",
    response=Inbox,
    roles=SIGNED_IN,
    errors=[ErrorSpec(404, "not_found", "Not one of my notifications.")],
)
async def mark_read(req: ApiRequest) -> Inbox:
    """Mark one notification read (``all`` marks every one)."""
    user_id = store.caller_id(req)
    raw = req.path["notification_id"]
    conditions = [col(NotifyInbox.user_id) == user_id, col(NotifyInbox.read_at).is_(None)]
    if raw != "all":
        if not raw.isdigit() or len(raw) > 12:
            raise NotFound(f"no notification {raw}")
        async with req.services.db.session() as db:
            row = await db.get(NotifyInbox, int(raw))
        if row is None or row.user_id != user_id:
            raise NotFound(f"no notification {raw}")
        conditions.append(col(NotifyInbox.id) == int(raw))
    async with req.services.db.session() as db:
        await db.execute(update(NotifyInbox).where(*conditions).values(read_at=clock.now()))
        await db.commit()
    req.query = InboxQuery()
    inbox: Inbox = await my_inbox(req)
    return inbox


def _view(pref: NotifyPreference | None, roles: frozenset[str]) -> Preferences:
    outs = pref.opt_outs if pref else []
    return Preferences(
        language=pref.language if pref else "",
        phone=pref.phone if pref else "",
        categories=[
            CategoryChoice(
                category=name,
                label=label,
                channels={c: catalog.wanted(name, c, outs) for c in USER_CHANNELS},
                locked=[c for c in USER_CHANNELS if not catalog.can_opt_out(name, c)],
            )
            for name, (label, _transactional) in catalog.CATEGORIES.items()
            if name != "alerts" or roles & ALERTED
        ],
    )


@router.get("/preferences", response=Preferences, roles=SIGNED_IN)
async def get_preferences(req: ApiRequest) -> Preferences:
    """My language, SMS number and which channels each kind of message uses."""
    async with req.services.db.session() as db:
        pref = await db.get(NotifyPreference, store.caller_id(req))
    return _view(pref, store.caller(req).roles)


@router.put(
    "/preferences",
    body=PreferencesIn,
    response=Preferences,
    roles=SIGNED_IN,
    errors=[ErrorSpec(422, "invalid_input", "Unknown category, or a locked channel.")],
)
async def put_preferences(req: ApiRequest[PreferencesIn, None]) -> Preferences:
    """Change the fields sent. Switching off a transactional email is refused with 422."""
    user_id = store.caller_id(req)
    body = req.body
    async with req.services.db.session() as db:
        pref = await db.get(NotifyPreference, user_id) or NotifyPreference(user_id=user_id)
        if body.language is not None:
            pref.language = body.language
        if body.phone is not None:
            pref.phone = body.phone
        if body.channels is not None:
            outs = set(pref.opt_outs)
            for category, channels in body.channels.items():
                if category not in catalog.CATEGORIES:
                    raise InvalidInput(
                        f"unknown category {category!r}",
                        details={"categories": sorted(catalog.CATEGORIES)},
                    )
                for channel, on in channels.items():
                    if not on and not catalog.can_opt_out(category, channel):
                        raise InvalidInput(
                            f"{category} {channel} cannot be switched off: it is transactional",
                            details={"category": category, "channel": channel},
                        )
                    (outs.discard if on else outs.add)(f"{category}:{channel}")
            pref.opt_outs = sorted(outs)
        pref.updated_at = clock.now()
        db.add(pref)
        await db.commit()
    return _view(pref, store.caller(req).roles)
