"""The one JSON error envelope every API failure uses, and the middleware that produces it.

Clients (the candidate page, the proctor wall, scripts) branch on ``error.code``, a stable
machine-readable string, never on the message text or on aiohttp's default plain-text bodies.
The request id in the envelope lets a user report a failure that an operator can find in the logs.
Browsers asking for HTML get a friendly page in the site layout instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel, Field

from core.errors import InvigilatorError
from webapp.logging_setup import REQUEST_ID

LOGIN_PATH = "/login"  # the sign-in page (served by the accounts plugin)

log = logging.getLogger("invigilator.errors")

REQUEST_ID_KEY: web.RequestKey[str] = web.RequestKey("request_id", str)

STATUS_CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    501: "not_implemented",
    502: "bad_gateway",
    503: "backend_unavailable",
    504: "gateway_timeout",
}


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. validation_error.")
    message: str = Field(description="Human-readable explanation; may change between versions.")
    details: Any = Field(None, description="Structured context, e.g. the invalid fields.")
    request_id: str | None = Field(None, description="Quote this when reporting a problem.")


class ErrorEnvelope(BaseModel):
    """Body of every non-2xx JSON response."""

    error: ErrorBody


class ApiError(Exception):
    """An HTTP failure raised by the web layer itself (binding, limits); becomes the envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


def request_id_of(request: web.Request | None) -> str | None:
    if request is not None and REQUEST_ID_KEY in request:
        return request[REQUEST_ID_KEY]
    return REQUEST_ID.get()


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    *,
    request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A JSON response carrying the envelope; ``request_id`` defaults to the current request's."""
    envelope = ErrorEnvelope(
        error=ErrorBody(
            code=code,
            message=message,
            details=details,
            request_id=request_id if request_id is not None else REQUEST_ID.get(),
        )
    )
    return web.Response(
        status=status,
        body=envelope.model_dump_json().encode(),
        content_type="application/json",
        headers=headers,
    )


def wants_html(request: web.Request) -> bool:
    """Only browsers get HTML: an explicit ``text/html`` outside ``/api/``; all else gets JSON."""
    if request.path.startswith("/api/"):
        return False
    accept = request.headers.get("Accept", "")
    return "text/html" in accept


def _from_http_exception(exc: web.HTTPException) -> tuple[str, str]:
    """Map aiohttp's exception to (code, message), keeping a handler's own text if it gave one."""
    code = STATUS_CODES.get(exc.status, "http_error")
    default_text = f"{exc.status}: {exc.reason}"
    text = (exc.text or "").strip()
    return code, text if text and text != default_text else exc.reason


async def _render_html_error(
    request: web.Request, status: int, code: str, message: str, headers: Mapping[str, str]
) -> web.StreamResponse | None:
    # Imported here: pages is optional (an API-only app has no templates) and imports this module.
    from webapp.pages import render_error_page  # noqa: PLC0415

    response = render_error_page(request, status, code, message)
    if response is not None:
        response.headers.update(headers)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn every failure below into the envelope (or an HTML page for browsers)."""
    headers: Mapping[str, str] = {}
    try:
        return await handler(request)  # type: ignore[no-any-return]
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and "raise HTTPOk" are control flow, not errors
        code, message = _from_http_exception(exc)
        status, details = exc.status, None
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    except ApiError as exc:
        status, code, message, details, headers = (
            exc.status,
            exc.code,
            exc.message,
            exc.details,
            exc.headers,
        )
    except InvigilatorError as exc:
        status, code, message, details = exc.status, exc.code, exc.message, exc.details
        if status >= 500:
            log.error("%s: %s", code, message, extra={"path": request.path})
    except Exception:
        log.exception("unhandled error", extra={"method": request.method, "path": request.path})
        status, code, details = 500, "internal_error", None
        message = "The server hit an unexpected error. Quote the request id when reporting it."
    if wants_html(request):
        if status == 401 and request.method == "GET":  # a page needs a sign-in: go and get one
            target = request.path_qs
            location = f"{LOGIN_PATH}?{urlencode({'next': target})}"
            return web.Response(status=303, headers={"Location": location})
        page = await _render_html_error(request, status, code, message, headers)
        if page is not None:
            return page
    return error_response(
        status, code, message, details, request_id=request_id_of(request), headers=headers
    )
