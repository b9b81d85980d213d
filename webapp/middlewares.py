"""The request pipeline every route goes through, outermost first.

1. request id    - names the request in every log line, the response header and error bodies
2. access log    - one structured record and the HTTP metrics per request, errors included
3. security      - CSP and friends on every response, error pages included
4. error envelope- exceptions become the JSON envelope (or an HTML page for browsers)
5. body limit    - refuse an oversized body before reading it
6. rate limit    - per-client token bucket

Security headers sit outside the error envelope so that error responses get them too; limits sit
inside it so their refusals come out as the envelope.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from core.settings import Settings
from webapp.binding import body_limit, endpoint_for
from webapp.errors import REQUEST_ID_KEY, ApiError, error_middleware
from webapp.logging_setup import REQUEST_ID
from webapp.metrics import UNMATCHED_ROUTE, record_request
from webapp.rate_limit import (
    Network,
    TokenBucketLimiter,
    client_address,
    is_trusted_proxy,
    parse_networks,
)

access_log = logging.getLogger("invigilator.access")

REQUEST_ID_HEADER = "X-Request-ID"
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SANE_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")

PERMISSIONS_POLICY = (
    "camera=(self), microphone=(self), fullscreen=(self), display-capture=(), geolocation=(), "
    "payment=(), usb=(), serial=(), hid=()"
)


def route_template(request: web.Request) -> str | None:
    """``/api/v1/exams/{exam_id}`` rather than the raw path; None when no route matched."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


def content_security_policy(request: web.Request) -> str:
    """No inline script and nothing from other hosts; WebSockets back to this origin only.

    ``'self'`` covers ws(s) to the same origin in current browsers; the explicit entries keep
    older ones working for the signalling and proctor-wall sockets.
    """
    connect = ["'self'"]
    if _SANE_HOST.fullmatch(request.host):
        connect += [f"ws://{request.host}", f"wss://{request.host}"]
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            "font-src 'self'",
            f"connect-src {' '.join(connect)}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _came_over_https(request: web.Request, trusted: list[Network]) -> bool:
    if request.secure:
        return True
    if is_trusted_proxy(request, trusted):
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        return proto == "https"
    return False


def apply_security_headers(
    request: web.Request, headers: web.StreamResponse | web.HTTPException, trusted: list[Network]
) -> None:
    """Set the headers unless a handler chose its own (setdefault)."""
    target = headers.headers
    target.setdefault("Content-Security-Policy", content_security_policy(request))
    target.setdefault("X-Content-Type-Options", "nosniff")
    target.setdefault("Referrer-Policy", "no-referrer")
    target.setdefault("X-Frame-Options", "DENY")
    target.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    target.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if _came_over_https(request, trusted):
        target.setdefault("Strict-Transport-Security", "max-age=31536000")


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    request[REQUEST_ID_KEY] = request_id
    token = REQUEST_ID.set(request_id)
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # redirects pass through as exceptions
        exc.headers[REQUEST_ID_HEADER] = request_id
        raise
    finally:
        REQUEST_ID.reset(token)
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def _access_log_middleware(trusted: list[Network]) -> Middleware:
    @web.middleware
    async def access_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status, size = 500, None
        try:
            response = await handler(request)
            status = response.status
            size = response.body_length if response.prepared else response.content_length
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 499  # the client went away before we answered
            raise
        finally:
            elapsed = time.perf_counter() - started
            template = route_template(request)
            record_request(request, template or UNMATCHED_ROUTE, status, elapsed)
            access_log.log(
                logging.DEBUG if request.path in EXEMPT_PATHS else logging.INFO,
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={
                    "method": request.method,
                    "path": template or request.path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "bytes": size,
                    "client": client_address(request, trusted),
                },
            )

    return access_log_middleware


def _security_headers_middleware(trusted: list[Network]) -> Middleware:
    @web.middleware
    async def security_headers_middleware(
        request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            apply_security_headers(request, exc, trusted)
            raise
        if not response.prepared:
            apply_security_headers(request, response, trusted)
        return response

    return security_headers_middleware


@web.middleware
async def body_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse by Content-Length before reading; chunked bodies are capped while read."""
    limit = body_limit(request, endpoint_for(request))
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(
            413, "payload_too_large", f"request body exceeds {limit} bytes", {"limit": limit}
        )
    return await handler(request)


def _rate_limit_middleware(settings: Settings, trusted: list[Network]) -> Middleware:
    limiter = TokenBucketLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)

    @web.middleware
    async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if limiter.enabled and request.path not in EXEMPT_PATHS:
            endpoint = endpoint_for(request)
            if endpoint is None or endpoint.rate_limited:
                wait = limiter.acquire(client_address(request, trusted))
                if wait is not None:
                    seconds = max(1, math.ceil(wait))
                    raise ApiError(
                        429,
                        "rate_limited",
                        f"too many requests; retry in {seconds} s",
                        {"retry_after": seconds},
                        headers={"Retry-After": str(seconds)},
                    )
        return await handler(request)

    return rate_limit_middleware


def build_middlewares(settings: Settings) -> list[Middleware]:
    """The middleware list for ``web.Application(middlewares=...)``, in the order above."""
    trusted = parse_networks(settings.trusted_proxies)
    return [
        request_id_middleware,
        _access_log_middleware(trusted),
        _security_headers_middleware(trusted),
        error_middleware,
        body_limit_middleware,
        _rate_limit_middleware(settings, trusted),
    ]


def response_headers_hook(
    settings: Settings,
) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An ``app.on_response_prepare`` hook for responses a handler prepares itself.

    WebSocket and server-sent-event handlers send their headers before any middleware sees the
    response; this hook gives those the same request id and security headers.
    """
    trusted = parse_networks(settings.trusted_proxies)

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        if REQUEST_ID_KEY in request:
            response.headers.setdefault(REQUEST_ID_HEADER, request[REQUEST_ID_KEY])
        apply_security_headers(request, response, trusted)

    return on_prepare
