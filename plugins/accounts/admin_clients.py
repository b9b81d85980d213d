"""Admin API for machine clients (LMS and other integrations using client credentials).

The secret is 32 random bytes shown once, in the answer that creates the client; only its
Argon2id hash is kept, so neither the database nor the admin UI can reveal it later (a lost
secret means a new client). Clients may hold staff roles only: a machine has no business
acting as a candidate.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlmodel import col

from core.errors import NotFound
from plugins.accounts import audit
from plugins.accounts.models import ClientCreated, ClientPublic, NewClient
from plugins.accounts.tables import ApiClient
from plugins.accounts.user_admin import actor_id, hash_password_off_loop
from webapp.binding import principal_of
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/clients", tags=["clients"])
ADMIN = {"admin"}


def _public(client: ApiClient) -> ClientPublic:
    return ClientPublic(
        client_id=client.client_id,
        name=client.name,
        roles=[role for role in client.roles.split(",") if role],
        is_active=client.is_active,
        created_at=client.created_at,
    )


@router.get("", response=list[ClientPublic], roles=ADMIN)
async def list_clients(req: ApiRequest) -> list[ClientPublic]:
    """Every API client, oldest first; secrets are never shown again."""
    async with req.services.db.session() as db:
        rows = await db.execute(select(ApiClient).order_by(col(ApiClient.id)))
        return [_public(client) for client in rows.scalars()]


@router.post("", body=NewClient, response=ClientCreated, status=201, roles=ADMIN)
async def create_client(req: ApiRequest[NewClient, None]) -> ClientCreated:
    """Create a client; the answer holds ``client_secret``, which is shown only this once."""
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id="cli_" + secrets.token_hex(12),
        secret_hash=await hash_password_off_loop(secret),
        name=req.body.name,
        roles=",".join(req.body.roles),
    )
    async with req.services.db.session() as db:
        db.add(client)
        audit.record(
            db,
            "client.created",
            actor_id=actor_id(principal_of(req.request)),
            request=req.request,
            client_id=client.client_id,
            name=client.name,
            roles=client.roles,
        )
        await db.commit()
    return ClientCreated(**_public(client).model_dump(), client_secret=secret)


@router.delete(
    "/{client_id}",
    roles=ADMIN,
    errors=[ErrorSpec(404, "not_found", "No client with this id.")],
)
async def delete_client(req: ApiRequest) -> None:
    """Delete a client: its secret stops working for new tokens at once."""
    client_id = req.path["client_id"]
    async with req.services.db.session() as db:
        client = (
            await db.execute(select(ApiClient).where(col(ApiClient.client_id) == client_id[:64]))
        ).scalar_one_or_none()
        if client is None:
            raise NotFound("no such client")
        await db.delete(client)
        audit.record(
            db,
            "client.deleted",
            actor_id=actor_id(principal_of(req.request)),
            request=req.request,
            client_id=client.client_id,
            name=client.name,
        )
        await db.commit()
