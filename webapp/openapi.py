"""Builds the OpenAPI 3.1 document from the declared endpoints.

The document is generated from the same :class:`~webapp.routing.Endpoint` objects the binding
uses, so it cannot drift from what the server accepts. All models go through one pydantic
schema pass: shared models (and their nested ``$defs``) land once in ``components.schemas``,
and a model whose input and output shapes differ gets ``Name-Input`` / ``Name-Output`` entries.
"""

from __future__ import annotations

import http
import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import TypeAdapter

from webapp.errors import ErrorEnvelope
from webapp.routing import Endpoint

JSON = "application/json"
REF_PREFIX = "#/components/schemas/"
# How callers authenticate, as served by the built-in accounts plugin (docs/accounts.md): an
# OAuth2 token endpoint (password and client-credentials grants) issuing bearer JWTs, and the
# browser's HttpOnly access cookie (with the X-CSRF-Token header on unsafe methods).
TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (a URL, not a secret)
SECURITY: list[dict[str, list[str]]] = [
    {"oauth2": []},
    {"bearerAuth": []},
    {"sessionCookie": []},
]
SECURITY_SCHEMES = {
    "oauth2": {
        "type": "oauth2",
        "description": "OAuth2 token endpoint: a person's email and password, or an API "
        "client's id and secret. Use the access token as a bearer token.",
        "flows": {
            "password": {"tokenUrl": TOKEN_URL, "refreshUrl": TOKEN_URL, "scopes": {}},
            "clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": {}},
        },
    },
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token issued at sign-in, sent as `Authorization: Bearer ...`.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "inv_access",
        "description": "The browser's HttpOnly access cookie set at sign-in; unsafe methods "
        "also need the X-CSRF-Token header.",
    },
}
_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?}")
_ERROR_KEY = ("error", -1)


def openapi_path(path: str) -> tuple[str, list[tuple[str, str | None]]]:
    """``/a/{id:\\d+}`` -> (``/a/{id}``, [("id", "\\d+")]): OpenAPI paths carry no regex."""
    params = [(m.group(1), m.group(2)) for m in _PARAM.finditer(path)]
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path), params


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"


def _standard_errors(endpoint: Endpoint) -> dict[int, list[tuple[str, str]]]:
    """The failures the web layer itself may answer with, whatever the handler does."""
    errors: dict[int, list[tuple[str, str]]] = {}

    def add(status: int, code: str, text: str) -> None:
        errors.setdefault(status, []).append((code, text))

    if endpoint.body is not None:
        add(400, "invalid_json", "The body is not valid JSON.")
        add(413, "payload_too_large", "The body is larger than the server accepts.")
        add(415, "unsupported_media_type", "The body is not sent as application/json.")
    if endpoint.body is not None or endpoint.query is not None:
        add(422, "validation_error", "A field is missing or invalid; `details` lists them.")
    if endpoint.roles:
        add(401, "unauthorized", "The caller is not signed in.")
        add(403, "forbidden", "The caller has none of the roles in `x-roles`.")
    if endpoint.rate_limited:
        add(429, "rate_limited", "Too many requests; see the Retry-After header.")
    add(500, "internal_error", "An unexpected server error; quote the request id.")
    for spec in endpoint.errors:
        errors.setdefault(spec.status, []).append((spec.code, spec.description))
    return errors


def _error_responses(endpoint: Endpoint, envelope: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, codes in sorted(_standard_errors(endpoint).items()):
        lines = [f"- `{code}`: {text}" for code, text in dict(codes).items()]
        responses[str(status)] = {
            "description": f"{_phrase(status)}\n\n" + "\n".join(lines),
            "content": {JSON: {"schema": envelope}},
            "x-error-codes": list(dict(codes)),
        }
    return responses


def _success_response(endpoint: Endpoint, schema: dict[str, Any] | None) -> dict[str, Any]:
    if schema is None:
        if endpoint.response_media_type == JSON:
            return {"204": {"description": "No content"}}
        schema = {"type": "string"}
    content = {endpoint.response_media_type: {"schema": schema}}
    return {str(endpoint.status): {"description": _phrase(endpoint.status), "content": content}}


def _query_parameters(model_schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One ``in: query`` parameter per field; lists are repeated keys (``?tag=a&tag=b``)."""
    required = set(model_schema.get("required", ()))
    params = []
    for name, prop in model_schema.get("properties", {}).items():
        schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if prop.get("description"):
            param["description"] = prop["description"]
        param["schema"] = schema
        params.append(param)
    return params


def _path_parameters(params: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    out = []
    for name, pattern in params:
        schema: dict[str, Any] = {"type": "string"}
        if pattern:
            schema["pattern"] = f"^(?:{pattern})$"
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


def _operation_id(endpoint: Endpoint, taken: set[str]) -> str:
    base = endpoint.operation_id or re.sub(
        r"[^A-Za-z0-9]+", "_", f"{endpoint.method.lower()}_{endpoint.path}"
    ).strip("_")
    candidates = [base]
    if endpoint.tags:
        candidates.append(f"{re.sub(r'[^A-Za-z0-9]+', '_', endpoint.tags[0])}_{base}")
    candidates += [f"{base}_{n}" for n in range(2, 1000)]
    chosen = next(c for c in candidates if c not in taken)
    taken.add(chosen)
    return chosen


def _collect_refs(node: Any, into: set[str]) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            into.add(ref.removeprefix(REF_PREFIX))
        for value in node.values():
            _collect_refs(value, into)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, into)
    return into


def _prune(schemas: dict[str, Any], roots: Iterable[str]) -> dict[str, Any]:
    """Keep the schemas the paths reach (query models are inlined as parameters, not kept)."""
    keep: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in keep or name not in schemas:
            continue
        keep.add(name)
        todo.extend(_collect_refs(schemas[name], set()))
    return {name: schemas[name] for name in sorted(keep)}


def _operation(
    endpoint: Endpoint,
    index: int,
    schema_of: dict[tuple[str, int], Any],
    schemas: dict[str, Any],
    taken: set[str],
) -> tuple[str, dict[str, Any]]:
    path, path_params = openapi_path(endpoint.path)
    operation: dict[str, Any] = {
        "operationId": _operation_id(endpoint, taken),
        "summary": endpoint.summary,
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    if endpoint.tags:
        operation["tags"] = list(endpoint.tags)
    parameters = _path_parameters(path_params)
    if endpoint.query is not None:
        query_ref = schema_of[("query", index)]["$ref"].removeprefix(REF_PREFIX)
        parameters += _query_parameters(schemas[query_ref])
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": schema_of[("body", index)]}},
        }
    operation["responses"] = {
        **_success_response(endpoint, schema_of.get(("response", index))),
        **_error_responses(endpoint, schema_of[_ERROR_KEY]),
    }
    if endpoint.roles:
        operation["security"] = SECURITY
        operation["x-roles"] = sorted(endpoint.roles)
    return path, operation


def build_openapi(
    endpoints: Sequence[Endpoint], *, title: str, version: str, description: str = ""
) -> dict[str, Any]:
    """The OpenAPI 3.1.0 document (a JSON-ready dict) for the endpoints in the schema."""
    visible = [e for e in endpoints if e.include_in_schema]
    inputs: list[tuple[tuple[str, int], Any, TypeAdapter[Any]]] = [
        (_ERROR_KEY, "serialization", TypeAdapter(ErrorEnvelope))
    ]
    for index, endpoint in enumerate(visible):
        if endpoint.body is not None:
            inputs.append((("body", index), "validation", TypeAdapter(endpoint.body)))
        if endpoint.query is not None:
            inputs.append((("query", index), "validation", TypeAdapter(endpoint.query)))
        if endpoint.response is not None:
            inputs.append((("response", index), "serialization", TypeAdapter(endpoint.response)))
    key_map, defs = TypeAdapter.json_schemas(inputs, ref_template=REF_PREFIX + "{model}")
    schemas: dict[str, Any] = defs.get("$defs", {})
    schema_of = {key: value for (key, _mode), value in key_map.items()}

    paths: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for index, endpoint in enumerate(visible):
        path, operation = _operation(endpoint, index, schema_of, schemas, taken)
        paths.setdefault(path, {})[endpoint.method.lower()] = operation

    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": _prune(schemas, _collect_refs(paths, set())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
    if description:
        document["info"]["description"] = description
    tags = sorted({tag for endpoint in visible for tag in endpoint.tags})
    if tags:
        document["tags"] = [{"name": tag} for tag in tags]
    return document
