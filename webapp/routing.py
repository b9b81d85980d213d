"""The route-declaration API plugins use: endpoints with typed request and response models.

A plugin declares endpoints on a :class:`Router` and returns ``router.endpoints`` from its
``invigilator_routes`` hook. The web app binds them to aiohttp (validating path, query and body
against the declared models and serialising the response model) and builds the one OpenAPI
document from the same declarations, so the documentation cannot drift from the code.

    router = Router(prefix="/api/v1/exams", tags=["exams"])

    @router.get("/{exam_id}", response=ExamPublic, roles={"examiner"})
    async def get_exam(req: ApiRequest) -> ExamPublic:
        ...
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Generic

from aiohttp import web
from pydantic import BaseModel
from typing_extensions import TypeVar

from core.services import Services

# Defaults make a bare ``ApiRequest`` mean "no body/query model declared".
BodyT = TypeVar("BodyT", default=Any)
QueryT = TypeVar("QueryT", default=Any)

Handler = Callable[["ApiRequest[Any, Any]"], Awaitable[Any]]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PUBLIC: frozenset[str] = frozenset()
_PATH_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?}")


@dataclass
class ApiRequest(Generic[BodyT, QueryT]):
    """What a handler receives: the validated inputs plus the raw request and the services.

    ``body`` and ``query`` are ``None`` when the endpoint declares no model for them.
    """

    request: web.Request
    services: Services
    path: dict[str, str]
    query: QueryT
    body: BodyT
    request_id: str


@dataclass(frozen=True)
class ErrorSpec:
    """An error a route may answer with, listed in the OpenAPI document."""

    status: int
    code: str
    description: str


@dataclass(frozen=True)
class Endpoint:
    """One declared route. ``roles`` empty means anyone (including anonymous) may call it."""

    method: str
    path: str
    handler: Handler
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | Any | None = None
    status: int = 200
    roles: frozenset[str] = PUBLIC
    errors: tuple[ErrorSpec, ...] = ()
    include_in_schema: bool = True
    rate_limited: bool = True
    max_body_bytes: int | None = None
    operation_id: str = ""
    response_media_type: str = "application/json"

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)


@dataclass
class Router:
    """Collects endpoints under a common prefix and tags."""

    prefix: str = ""
    tags: list[str] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str = "",
        description: str = "",
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | Any | None = None,
        status: int = 200,
        roles: Collection[str] = PUBLIC,
        errors: Collection[ErrorSpec] = (),
        include_in_schema: bool = True,
        rate_limited: bool = True,
        max_body_bytes: int | None = None,
        response_media_type: str = "application/json",
        tags: Collection[str] = (),
        operation_id: str = "",
    ) -> Callable[[Handler], Handler]:
        method = method.upper()
        if method not in METHODS:
            raise ValueError(f"unsupported method {method}")

        def decorate(handler: Handler) -> Handler:
            doc = (handler.__doc__ or "").strip()
            first, _, rest = doc.partition("\n")
            self.endpoints.append(
                Endpoint(
                    method=method,
                    path=self.prefix + path,
                    handler=handler,
                    summary=summary or first.strip() or handler.__name__.replace("_", " "),
                    description=description or rest.strip(),
                    tags=tuple(self.tags) + tuple(tags),
                    body=body,
                    query=query,
                    response=response,
                    status=status,
                    roles=frozenset(roles),
                    errors=tuple(errors),
                    include_in_schema=include_in_schema,
                    rate_limited=rate_limited,
                    max_body_bytes=max_body_bytes,
                    operation_id=operation_id or handler.__name__,
                    response_media_type=response_media_type,
                )
            )
            return handler

        return decorate

    def get(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kwargs)
