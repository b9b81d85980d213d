"""A small API declared the way plugins declare theirs, used by the web-layer tests."""

from __future__ import annotations

from enum import StrEnum

from aiohttp import web
from pydantic import BaseModel, Field

from core.errors import NotFound
from webapp.routing import ApiRequest, ErrorSpec, Router

items = Router(prefix="/api/v1/items", tags=["items"])
misc = Router(prefix="/api/v1", tags=["misc"])


class Status(StrEnum):
    draft = "draft"
    published = "published"


class ItemCreate(BaseModel):
    name: str = Field(min_length=1, max_length=50, description="Shown to candidates.")
    price: float = Field(ge=0)
    tags: list[str] = Field(default_factory=list)


class ItemPublic(BaseModel):
    id: int
    name: str
    status: Status = Status.draft


class ItemInternal(ItemPublic):
    secret_note: str


class ItemQuery(BaseModel):
    tag: list[str] = Field(default_factory=list, description="Keep items with any of these tags.")
    limit: int = Field(10, ge=1, le=100, description="Most items to return.")
    status: Status | None = None


class Blob(BaseModel):
    data: str


@items.get("/{item_id}", response=ItemPublic, errors=[ErrorSpec(404, "not_found", "No item.")])
async def get_item(req: ApiRequest[BaseModel, BaseModel]) -> ItemPublic:
    """Fetch one item.

    Answers 404 when the item does not exist.
    """
    if req.path["item_id"] == "missing":
        raise NotFound("item missing does not exist")
    return ItemPublic(id=1, name=f"item {req.path['item_id']}")


@items.get("", query=ItemQuery, response=list[ItemPublic])
async def list_items(req: ApiRequest[BaseModel, ItemQuery]) -> list[dict[str, object]]:
    """List items."""
    q = req.query
    return [
        {"id": i, "name": ",".join(q.tag) or "any", "status": q.status or "draft"}
        for i in range(q.limit)
    ]


@items.post("", body=ItemCreate, response=ItemPublic, status=201)
async def create_item(req: ApiRequest[ItemCreate, BaseModel]) -> ItemPublic:
    """Create an item."""
    return ItemPublic(id=7, name=req.body.name)


@items.delete(r"/{item_id:\d+}", roles={"examiner"})
async def delete_item(req: ApiRequest[BaseModel, BaseModel]) -> None:
    """Delete an item (examiners only)."""


@items.get("/{item_id}/internal", response=ItemPublic, roles={"examiner", "admin"})
async def get_internal(req: ApiRequest[BaseModel, BaseModel]) -> ItemInternal:
    """Returns more than the declared model; the binding must strip it."""
    return ItemInternal(id=2, name="x", secret_note="do not leak")


@misc.post("/uploads", body=Blob, max_body_bytes=4096)
async def upload(req: ApiRequest[Blob, BaseModel]) -> None:
    """Accepts bodies up to 4 KiB, above the test app's global limit."""


@misc.get("/boom")
async def boom(req: ApiRequest[BaseModel, BaseModel]) -> None:
    raise RuntimeError("secret-internal-detail")


@misc.get("/text", response_media_type="text/plain")
async def text(req: ApiRequest[BaseModel, BaseModel]) -> str:
    return "plain words"


@misc.get("/raw")
async def raw(req: ApiRequest[BaseModel, BaseModel]) -> web.StreamResponse:
    return web.Response(text="raw", headers={"X-Raw": "1"})


@misc.get("/dict")
async def as_dict(req: ApiRequest[BaseModel, BaseModel]) -> dict[str, object]:
    return {"ok": True, "who": req.request_id}


@misc.get("/unlimited", rate_limited=False)
async def unlimited(req: ApiRequest[BaseModel, BaseModel]) -> dict[str, bool]:
    return {"ok": True}


@misc.get("/hidden", include_in_schema=False)
async def hidden(req: ApiRequest[BaseModel, BaseModel]) -> None:
    return None


async def _list_other(req: ApiRequest[BaseModel, BaseModel]) -> None:
    return None


# Named like the handler in ``items``: the schema must still get unique operationIds.
_list_other.__name__ = "list_items"
misc.get("/other-items")(_list_other)
ENDPOINTS = [*items.endpoints, *misc.endpoints]
