"""Binds declared :class:`~webapp.routing.Endpoint` objects to aiohttp.

The wrapper does, for every route, what a handler would otherwise repeat and sometimes forget:
authenticate, check roles, validate path, query and body against the declared models, and turn
the handler's return value into a response that matches the documented schema. Responses are
re-validated against the declared response model, so returning a table row where ``UserPublic``
is declared never leaks a column the public model does not list.
"""

from __future__ import annotations

import json
import re
import types
import weakref
from collections import abc
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

import pydantic_core
from aiohttp import web
from multidict import MultiMapping
from pydantic import BaseModel, TypeAdapter, ValidationError

from core.errors import ConfigError
from webapp.errors import ApiError, request_id_of
from webapp.keys import AUTHENTICATE, PRINCIPAL, SERVICES, SETTINGS, Principal
from webapp.routing import ApiRequest, Endpoint

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
JSON = "application/json"

_BOUND: web.AppKey[dict[tuple[str, str], Endpoint]] = web.AppKey("bound_endpoints")
_ENDPOINT_OF: weakref.WeakKeyDictionary[Callable[..., Any], Endpoint] = weakref.WeakKeyDictionary()
_PARAM = re.compile(r"{[A-Za-z_][A-Za-z0-9_]*(:[^}]*)?}")
_SEQUENCE_ORIGINS = (list, tuple, set, frozenset, abc.Sequence, abc.Set, abc.Collection)


def add_endpoints(app: web.Application, endpoints: Sequence[Endpoint]) -> None:
    """Register each endpoint on ``app.router``; a repeated method and path is a ConfigError."""
    bound = app.setdefault(_BOUND, {})
    for endpoint in endpoints:
        key = (endpoint.method, _route_shape(endpoint.path))
        if key in bound:
            raise ConfigError(
                f"route {endpoint.method} {endpoint.path} is declared twice: by "
                f"{_qualname(bound[key].handler)} and by {_qualname(endpoint.handler)}"
            )
        bound[key] = endpoint
        wrapper = _make_wrapper(endpoint)
        _ENDPOINT_OF[wrapper] = endpoint
        app.router.add_route(endpoint.method, endpoint.path, wrapper)


def endpoint_for(request: web.Request) -> Endpoint | None:
    """The declared endpoint a request was routed to (None for plain aiohttp routes)."""
    try:
        return _ENDPOINT_OF.get(request.match_info.handler)
    except TypeError:  # a handler object that cannot be weakly referenced is not ours
        return None


def body_limit(request: web.Request, endpoint: Endpoint | None = None) -> int:
    """Largest body this request may send: the endpoint's own limit, else the global one."""
    if endpoint is not None and endpoint.max_body_bytes is not None:
        return endpoint.max_body_bytes
    settings = request.config_dict.get(SETTINGS)
    return settings.max_body_bytes if settings is not None else DEFAULT_MAX_BODY_BYTES


async def read_body_limited(request: web.Request, limit: int) -> bytes:
    """Read the whole body, failing with 413 as soon as it passes ``limit``.

    A chunked upload announces no length, so the limit is enforced while reading rather than
    trusting a header; handlers that stream bodies themselves should use this too.
    """
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, "payload_too_large", f"request body exceeds {limit} bytes", {"limit": limit}
    )


def _route_shape(path: str) -> str:
    """``/a/{x}`` and ``/a/{y}`` match the same requests; a regex makes a distinct shape."""
    return _PARAM.sub(lambda match: "{" + (match.group(1) or "") + "}", path)


def _qualname(handler: Callable[..., Any]) -> str:
    return f"{handler.__module__}.{getattr(handler, '__qualname__', repr(handler))}"


def _make_wrapper(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    adapter = TypeAdapter(endpoint.response) if endpoint.response is not None else None
    list_keys = _sequence_keys(endpoint.query) if endpoint.query is not None else frozenset()

    async def handle(request: web.Request) -> web.StreamResponse:
        await _authorize(request, endpoint)
        path = {name: request.match_info[name] for name in endpoint.path_params}
        query = None
        if endpoint.query is not None:
            data = _query_data(request.query, list_keys)
            query = _validate(endpoint.query, data, "query")
        body = None
        if endpoint.body is not None:
            body = _validate(endpoint.body, await _read_json(request, endpoint), "body")
        api_request: ApiRequest[Any, Any] = ApiRequest(
            request=request,
            services=request.config_dict[SERVICES],
            path=path,
            query=query,
            body=body,
            request_id=request_id_of(request) or "",
        )
        result = await endpoint.handler(api_request)
        return _to_response(result, endpoint, adapter)

    handle.__name__ = getattr(endpoint.handler, "__name__", "endpoint")
    handle.__qualname__ = getattr(endpoint.handler, "__qualname__", handle.__name__)
    handle.__doc__ = endpoint.handler.__doc__
    return handle


async def _authorize(request: web.Request, endpoint: Endpoint) -> None:
    authenticate = request.config_dict.get(AUTHENTICATE)
    principal = await authenticate(request) if authenticate is not None else None
    request[PRINCIPAL] = principal
    if not endpoint.roles:
        return
    if principal is None:
        raise ApiError(
            401,
            "unauthorized",
            "sign in to use this endpoint",
            headers={"WWW-Authenticate": 'Bearer realm="invigilator"'},
        )
    if not endpoint.roles & principal.roles:
        raise ApiError(
            403,
            "forbidden",
            "your account does not have a role allowed here",
            {"required_roles": sorted(endpoint.roles)},
        )


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_sequence(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_is_sequence(arg) for arg in get_args(annotation) if arg is not type(None))
    return annotation in _SEQUENCE_ORIGINS or origin in _SEQUENCE_ORIGINS


def _sequence_keys(model: type[BaseModel]) -> frozenset[str]:
    """Query keys (field names and aliases) whose field takes several values."""
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        if _is_sequence(info.annotation):
            keys.add(name)
            keys.update(a for a in (info.alias, info.validation_alias) if isinstance(a, str))
    return frozenset(keys)


def _query_data(query: MultiMapping[str], list_keys: frozenset[str]) -> dict[str, Any]:
    """``?tag=a&tag=b`` becomes a list where the field is a list; otherwise the last value wins."""
    data: dict[str, Any] = {}
    for key in dict.fromkeys(query.keys()):
        values = query.getall(key)
        data[key] = list(values) if key in list_keys else values[-1]
    return data


def _validate(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"loc": [where, *item["loc"]], "msg": item["msg"], "type": item["type"]}
            for item in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
        raise ApiError(422, "validation_error", f"invalid request {where}", details) from None


def _is_json(content_type: str) -> bool:
    return content_type == JSON or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def _read_json(request: web.Request, endpoint: Endpoint) -> Any:
    if not _is_json(request.content_type):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the body as {JSON}",
            {"content_type": request.content_type},
        )
    raw = await read_body_limited(request, body_limit(request, endpoint))
    if not raw.strip():
        raise ApiError(400, "invalid_json", "the request body is empty; send a JSON document")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        details: Any = {"line": exc.lineno, "column": exc.colno, "reason": exc.msg}
    except ValueError as exc:  # undecodable bytes, NaN/Infinity
        details = {"reason": str(exc)}
    raise ApiError(400, "invalid_json", "the request body is not valid JSON", details)


def _to_response(
    result: Any, endpoint: Endpoint, adapter: TypeAdapter[Any] | None
) -> web.StreamResponse:
    if isinstance(result, web.StreamResponse):
        return result
    if result is None:
        return web.Response(status=204)
    if isinstance(result, str | bytes) and endpoint.response_media_type != JSON:
        body = result.encode() if isinstance(result, str) else result
        return web.Response(
            body=body, status=endpoint.status, content_type=endpoint.response_media_type
        )
    if adapter is not None:
        # Validation, not just a cast: it drops fields the declared model does not publish.
        payload = adapter.dump_json(
            adapter.validate_python(result, from_attributes=True), by_alias=True
        )
    else:
        payload = pydantic_core.to_json(result, by_alias=True)
    return web.Response(body=payload, status=endpoint.status, content_type=JSON)


def principal_of(request: web.Request) -> Principal | None:
    """Who made the request, as established by the binding (None when anonymous)."""
    return request.get(PRINCIPAL)
