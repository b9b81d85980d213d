"""Administrators' view of notifications: the delivery history, retries, and webhooks."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select, update
from sqlmodel import col

from core.errors import InvalidInput, NotFound
from plugins.notify import clock, dispatch, webhooks
from plugins.notify.schemas import (
    MessagePage,
    MessagePublic,
    MessageQuery,
    WebhookIn,
    WebhookPatch,
    WebhookPublic,
)
from plugins.notify.tables import NotifyMessage, NotifyWebhook
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/admin", tags=["notifications"])
ADMIN = frozenset({"admin"})
_NOT_FOUND = ErrorSpec(404, "not_found", "No such record.")
_BAD_URL = ErrorSpec(422, "invalid_input", "The URL is not http(s) or points at a private address.")


def _int(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 12:
        raise NotFound(f"no record {raw}")
    return int(raw)


@router.get("/notifications", query=MessageQuery, response=MessagePage, roles=ADMIN)
async def history(req: ApiRequest[None, MessageQuery]) -> MessagePage:
    """Every message and what became of it, newest first, filtered by the fields given."""
    q = req.query
    conditions = []
    for field in ("channel", "status", "event", "user_id"):
        value = getattr(q, field)
        if value is not None:
            conditions.append(col(getattr(NotifyMessage, field)) == value)
    async with req.services.db.session() as db:
        total = (
            await db.execute(select(func.count()).select_from(NotifyMessage).where(*conditions))
        ).scalar_one()
        rows = await db.execute(
            select(NotifyMessage)
            .where(*conditions)
            .order_by(col(NotifyMessage.id).desc())
            .limit(q.limit)
            .offset(q.offset)
        )
        items = [MessagePublic.model_validate(r, from_attributes=True) for r in rows.scalars()]
    return MessagePage(items=items, total=total)


@router.post(
    "/notifications/{message_id}/retry",
    response=MessagePublic,
    roles=ADMIN,
    errors=[_NOT_FOUND, ErrorSpec(409, "conflict", "Only a failed message is retried.")],
)
async def retry(req: ApiRequest) -> MessagePublic:
    """Queue a failed message again, with a fresh count of tries."""
    message_id = _int(req.path["message_id"])
    async with req.services.db.session() as db:
        row = await db.get(NotifyMessage, message_id)
        if row is None:
            raise NotFound(f"no message {message_id}")
        if row.status != "failed":
            from core.errors import Conflict  # noqa: PLC0415

            raise Conflict(f"the message is {row.status}")
        await db.execute(
            update(NotifyMessage)
            .where(col(NotifyMessage.id) == message_id)
            .values(
                status="queued", attempts=0, next_attempt_at=clock.now(), updated_at=clock.now()
            )
        )
        await db.commit()
        await db.refresh(row)
    await dispatch.enqueue(req.services, [message_id], attempt=secrets.randbelow(10**9))
    return MessagePublic.model_validate(row, from_attributes=True)


def _public(hook: NotifyWebhook) -> WebhookPublic:
    return WebhookPublic.model_validate(hook, from_attributes=True)


async def _checked(req: ApiRequest, url: str) -> None:
    allow = dispatch.config(req.services).webhooks.allow_private
    try:
        await webhooks.check_url(url, allow_private=allow)
    except ValueError as error:
        raise InvalidInput(f"webhook URL refused: {error}", details={"url": url}) from None


@router.get("/webhooks", response=list[WebhookPublic], roles=ADMIN)
async def list_webhooks(req: ApiRequest) -> list[WebhookPublic]:
    """Registered endpoints (secrets are never shown again)."""
    async with req.services.db.session() as db:
        rows = await db.execute(select(NotifyWebhook).order_by(col(NotifyWebhook.id)))
        return [_public(h) for h in rows.scalars()]


@router.post(
    "/webhooks", body=WebhookIn, response=WebhookPublic, status=201, roles=ADMIN, errors=[_BAD_URL]
)
async def add_webhook(req: ApiRequest[WebhookIn, None]) -> WebhookPublic:
    """Register an endpoint; it receives every event named in ``events`` (all when empty)."""
    await _checked(req, req.body.url)
    hook = NotifyWebhook(**req.body.model_dump())
    async with req.services.db.session() as db:
        db.add(hook)
        await db.commit()
        await db.refresh(hook)
    return _public(hook)


@router.patch(
    "/webhooks/{webhook_id}",
    body=WebhookPatch,
    response=WebhookPublic,
    roles=ADMIN,
    errors=[_NOT_FOUND, _BAD_URL],
)
async def change_webhook(req: ApiRequest[WebhookPatch, None]) -> WebhookPublic:
    """Change an endpoint; re-activating it clears its failure count."""
    changes = req.body.model_dump(exclude_unset=True, exclude_none=True)
    if "url" in changes:
        await _checked(req, changes["url"])
    async with req.services.db.session() as db:
        hook = await db.get(NotifyWebhook, _int(req.path["webhook_id"]))
        if hook is None:
            raise NotFound("no such webhook")
        for name, value in changes.items():
            setattr(hook, name, value)
        if changes.get("active"):
            hook.consecutive_failures, hook.disabled_reason = 0, ""
        db.add(hook)
        await db.commit()
        return _public(hook)


@router.delete("/webhooks/{webhook_id}", status=204, roles=ADMIN, errors=[_NOT_FOUND])
async def delete_webhook(req: ApiRequest) -> None:
    """Remove an endpoint; its queued deliveries fail as "removed"."""
    async with req.services.db.session() as db:
        hook = await db.get(NotifyWebhook, _int(req.path["webhook_id"]))
        if hook is None:
            raise NotFound("no such webhook")
        await db.delete(hook)
        await db.commit()
