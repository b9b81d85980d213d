"""Server-rendered pages: the Jinja2 environment, static files and the shared layout.

Every page extends ``base.html`` so that the skip link, landmarks, focus styles and the strict
Content-Security-Policy (no inline script) hold everywhere without each plugin re-doing them.
Asset URLs carry a content hash (``static_url``), which lets browsers cache them for a year and
still pick up a new version the moment a file changes.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from aiohttp.web_urldispatcher import StaticResource

from core.errors import ConfigError
from webapp.errors import request_id_of
from webapp.keys import NAV_ITEMS, PRINCIPAL

log = logging.getLogger("invigilator.pages")

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
PRODUCT_NAME = "Invigilator"

TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates", jinja2.Environment)

_PREFIX = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_IMMUTABLE = "public, max-age=31536000, immutable"
_ERROR_TITLES = {
    400: "That request did not make sense",
    401: "Please sign in",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not available here",
    413: "That upload is too large",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "The service is temporarily unavailable",
}
_ERROR_ADVICE = {
    404: "The address may be mistyped, or the page may have moved.",
    429: "Wait a moment, then try again.",
    500: "Try again in a moment. If it keeps happening, tell your administrator the reference "
    "below.",
    503: "Try again in a moment.",
}


class _AssetVersions:
    """Short content hashes for asset URLs, recomputed only when a file's size or mtime moves."""

    def __init__(self, roots: Mapping[str, Path]) -> None:
        self.roots = dict(roots)  # "" is the core static folder, other keys are plugin prefixes
        self._cache: dict[Path, tuple[int, int, str]] = {}

    def url(self, path: str) -> str:
        prefix, _, rest = path.lstrip("/").partition("/")
        if prefix in self.roots and rest:
            root, relative = self.roots[prefix], rest
        else:
            root, relative = self.roots[""], path.lstrip("/")
        file = root / relative
        try:
            stat = file.stat()
        except OSError:
            log.warning("static file missing: %s", path)
            return f"/static/{path.lstrip('/')}"
        cached = self._cache.get(file)
        if cached is None or cached[:2] != (stat.st_mtime_ns, stat.st_size):
            digest = hashlib.sha256(file.read_bytes()).hexdigest()[:12]
            cached = (stat.st_mtime_ns, stat.st_size, digest)
            self._cache[file] = cached
        return f"/static/{path.lstrip('/')}?v={cached[2]}"


async def _static_cache_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Hashed URLs never change content, so cache them for good; others revalidate by ETag."""
    if not isinstance(request.match_info.route.resource, StaticResource):
        return
    if response.status in (200, 304):
        response.headers["Cache-Control"] = _IMMUTABLE if "v" in request.query else "no-cache"


def setup_pages(
    app: web.Application,
    extra_template_dirs: Sequence[Path] = (),
    static_dirs: Mapping[str, Path] | None = None,
) -> jinja2.Environment:
    """Create the template environment and serve ``/static/`` plus ``/static/<prefix>/``.

    Core templates come first on the search path so a plugin cannot silently replace the layout;
    plugins keep their templates in a folder named after themselves.
    """
    static_dirs = dict(static_dirs or {})
    reserved = {p.name for p in STATIC_DIR.iterdir() if p.is_dir()}
    for prefix, folder in static_dirs.items():
        if not _PREFIX.fullmatch(prefix) or prefix in reserved:
            raise ConfigError(
                f"static prefix {prefix!r} must be lowercase letters, digits, - or _ and not one "
                f"of {sorted(reserved)}"
            )
        if not Path(folder).is_dir():
            raise ConfigError(f"static folder for {prefix!r} does not exist: {folder}")
    versions = _AssetVersions({"": STATIC_DIR, **{k: Path(v) for k, v in static_dirs.items()}})
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([TEMPLATE_DIR, *extra_template_dirs]),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = versions.url
    env.globals["product_name"] = PRODUCT_NAME
    # A plugin adds to the header of every signed-in page with ``<plugin>/_header.html`` (the
    # notifications bell), so the layout never names a plugin.
    env.globals["header_partials"] = sorted(
        name for name in env.list_templates() if name.endswith("/_header.html")
    )
    app[TEMPLATES] = env
    app.router.add_static("/static/", STATIC_DIR)
    for prefix, folder in static_dirs.items():
        app.router.add_static(f"/static/{prefix}/", folder)
    app.on_response_prepare.append(_static_cache_headers)
    return env


def render(
    request: web.Request,
    template_name: str,
    context: Mapping[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    """Render a template into an HTML response, with the values every layout needs."""
    env = request.config_dict[TEMPLATES]
    principal = request.get(PRINCIPAL)
    nav = request.config_dict.get(NAV_ITEMS)
    roles = principal.roles if principal is not None else frozenset()
    values: dict[str, Any] = {
        "request": request,
        "request_id": request_id_of(request),
        "current_path": request.path,
        "principal": principal,
        "nav_items": [{"label": label, "href": href} for label, href in nav(roles)] if nav else [],
    }
    values.update(context or {})
    html = env.get_template(template_name).render(values)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def render_error_page(
    request: web.Request, status: int, code: str, message: str
) -> web.Response | None:
    """The friendly error page, or None when the app has no templates (API-only)."""
    if TEMPLATES not in request.config_dict:
        return None
    title = _ERROR_TITLES.get(status, "Something went wrong")
    if status == 404 and message in ("", "Not Found"):
        message = f"There is nothing at {request.path}."
    elif status >= 500:
        message = ""  # never show internals to a browser; the reference is enough
    try:
        return render(
            request,
            "error.html",
            {
                "status": status,
                "code": code,
                "title": title,
                "message": message,
                "advice": _ERROR_ADVICE.get(status, ""),
            },
            status=status,
        )
    except Exception:  # a broken template must not hide the original error
        log.exception("error page failed to render")
        return None
