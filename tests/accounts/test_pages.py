"""The accounts pages over HTTP: who may open which page, where sign-in sends people, the
``next`` sanitising, header links per role, and the CSP-friendly markup (no inline script)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from plugins.accounts.pages import nav_items, safe_next
from storage.tables.user import Role

from .conftest import ActAs, Client, MakeUser, login

HTML = {"Accept": "text/html"}
STATIC = Path(__file__).resolve().parents[2] / "plugins" / "accounts" / "static"
PUBLIC_PAGES = ["/login", "/forgot", "/reset", "/reset?token=abc"]
SIGNED_IN_PAGES = {
    Role.ADMIN: ["/profile", "/admin/users", "/admin/audit", "/logout"],
    Role.EXAMINER: ["/profile", "/logout"],
    Role.PROCTOR: ["/profile", "/logout"],
    Role.CANDIDATE: ["/profile", "/logout"],
}


class Markup(HTMLParser):
    """Collects what a strict CSP would block, plus the assets a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.assets: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._href = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"inline handler {name} on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name in ("href", "src", "action") and "javascript:" in (value or "").lower():
                self.problems.append(f"javascript: URL on <{tag}>")
        if tag == "script":
            if not values.get("src"):
                self.problems.append("inline <script>")
            else:
                self.assets.append(values["src"] or "")
        if tag == "style":
            self.problems.append("inline <style>")
        if tag == "link" and values.get("rel") == "stylesheet":
            self.assets.append(values.get("href") or "")
        if tag == "a":
            self._href = values.get("href") or ""

    def handle_data(self, data: str) -> None:
        if self._href and data.strip():
            self.links.append((data.strip(), self._href))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = ""


def parse(html: str) -> Markup:
    markup = Markup()
    markup.feed(html)
    return markup


def nav_links(html: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="site-nav".*?</nav>', html, re.S)
    return parse(nav.group(0)).links if nav else []


# ---- next sanitising --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["/profile", "/admin/users?role=candidate&active=true", "/exams/3#question-2", "/a/b/"],
)
def test_safe_next_keeps_paths_on_this_site(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "profile",
        "//evil.example/profile",
        "///evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "http:/evil.example",
        "/profile\r\nSet-Cookie: x=1",
        "/pro\tfile",
        "/a\x00b",
        "/login",
        "/login?next=/profile",
        "/logout",
        "/reset?token=abc",
        "/" + "a" * 2001,
    ],
)
def test_safe_next_refuses_other_sites_and_dead_ends(value: str | None) -> None:
    assert safe_next(value) is None


async def test_login_page_drops_a_foreign_next(client: Client) -> None:
    html = await (await client.get("/login?next=//evil.example/x", headers=HTML)).text()
    assert 'data-next=""' in html
    assert "evil.example" not in html
    html = await (await client.get("/login?next=/admin/audit", headers=HTML)).text()
    assert 'data-next="/admin/audit"' in html


# ---- who may open what -------------------------------------------------------------------


@pytest.mark.parametrize("path", PUBLIC_PAGES)
async def test_public_pages_render_for_anonymous_visitors(client: Client, path: str) -> None:
    response = await client.get(path, headers=HTML)
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    assert nav_links(html) == [("Sign in", "/login")]
    assert 'id="session-ended"' not in html  # no session to watch


@pytest.mark.parametrize("path", ["/profile", "/admin/users", "/admin/audit"])
async def test_anonymous_browsers_are_sent_to_sign_in_and_back(client: Client, path: str) -> None:
    response = await client.get(path + "?x=1", headers=HTML, allow_redirects=False)
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [path + "?x=1"]


async def test_logout_page_sends_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = await client.get("/logout", headers=HTML, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login"


@pytest.mark.parametrize("role", [Role.EXAMINER, Role.PROCTOR, Role.CANDIDATE])
@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
async def test_admin_pages_refuse_other_roles_with_the_403_page(
    client: Client, act_as: ActAs, make_user: MakeUser, role: Role, path: str
) -> None:
    act_as.user(await make_user(role))
    response = await client.get(path, headers=HTML, allow_redirects=False)
    assert response.status == 403
    html = await response.text()
    assert "You do not have access to this page" in html
    assert "Users" not in dict(nav_links(html))


@pytest.mark.parametrize("role", list(Role))
async def test_signed_in_pages_render_with_the_session_dialog(
    client: Client, act_as: ActAs, make_user: MakeUser, role: Role
) -> None:
    act_as.user(await make_user(role))
    for path in SIGNED_IN_PAGES[role]:
        response = await client.get(path, headers=HTML)
        assert response.status == 200, path
        html = await response.text()
        assert 'id="session-ended"' in html, path
        entries = [urlsplit(src).path.rsplit("/", 1)[-1] for src in parse(html).assets]
        assert any("session.js" in import_closure(name) for name in entries), path


def module_imports(name: str) -> list[str]:
    """The sibling modules a static ES module imports (``from "./x.js"``, ``import "./x.js"``)."""
    pattern = r'from "\./([\w.-]+)"|^import "\./([\w.-]+)"'
    found = re.findall(pattern, (STATIC / name).read_text(), re.M)
    return [first or second for first, second in found]


def import_closure(name: str, seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    if name not in seen and (STATIC / name).exists():
        seen.add(name)
        for imported in module_imports(name):
            import_closure(imported, seen)
    return seen


async def test_only_candidates_see_the_reference_photo_section(
    client: Client, act_as: ActAs, make_user: MakeUser
) -> None:
    act_as.user(await make_user(Role.CANDIDATE))
    html = await (await client.get("/profile", headers=HTML)).text()
    assert 'id="enrollment"' in html
    assert 'data-consent-version="2026-11"' in html
    act_as.user(await make_user(Role.EXAMINER))
    html = await (await client.get("/profile", headers=HTML)).text()
    assert 'id="enrollment"' not in html


async def test_sign_in_page_sends_signed_in_people_on(client: Client, make_user: MakeUser) -> None:
    admin = await make_user(Role.ADMIN)
    await login(client, admin.email)
    response = await client.get("/login", headers=HTML, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/admin/users"
    response = await client.get("/login?next=/admin/audit", headers=HTML, allow_redirects=False)
    assert response.headers["Location"] == "/admin/audit"
    response = await client.get("/login?next=//evil.example", headers=HTML, allow_redirects=False)
    assert response.headers["Location"] == "/admin/users"


async def test_a_real_sign_in_opens_the_profile(client: Client, make_user: MakeUser) -> None:
    candidate = await make_user(Role.CANDIDATE, display_name="Cleo Candidate")
    await login(client, candidate.email)
    response = await client.get("/profile", headers=HTML, allow_redirects=False)
    assert response.status == 200
    html = await response.text()
    links = nav_links(html)
    assert links[-2:] == [("Profile", "/profile"), ("Sign out", "/logout")]  # always last
    assert ("Users", "/admin/users") not in links


def test_nav_items_per_role() -> None:
    assert nav_items(frozenset()) == [("Sign in", "/login")]
    for role in (Role.EXAMINER, Role.PROCTOR, Role.CANDIDATE):
        assert nav_items(frozenset({role.value})) == [
            ("Profile", "/profile"),
            ("Sign out", "/logout"),
        ]
    assert nav_items(frozenset({"admin"})) == [
        ("Users", "/admin/users"),
        ("Audit log", "/admin/audit"),
        ("Profile", "/profile"),
        ("Sign out", "/logout"),
    ]


async def test_admin_header_links_are_rendered(
    client: Client, act_as: ActAs, make_user: MakeUser
) -> None:
    act_as.user(await make_user(Role.ADMIN))
    html = await (await client.get("/admin/audit", headers=HTML)).text()
    links = nav_links(html)
    assert ("Users", "/admin/users") in links
    assert ("Audit log", "/admin/audit") in links
    assert 'href="/admin/audit" aria-current="page"' in html


# ---- markup that a strict CSP allows -------------------------------------------------------


async def _all_pages(client: Client, act_as: ActAs, make_user: MakeUser) -> dict[str, str]:
    pages: dict[str, str] = {}
    for path in PUBLIC_PAGES:
        pages[path] = await (await client.get(path, headers=HTML)).text()
    for role, paths in SIGNED_IN_PAGES.items():
        act_as.user(await make_user(role))
        for path in paths:
            pages[f"{role.value} {path}"] = await (await client.get(path, headers=HTML)).text()
    act_as.user(None)
    return pages


async def test_no_page_has_inline_script_style_or_handlers(
    client: Client, act_as: ActAs, make_user: MakeUser
) -> None:
    pages = await _all_pages(client, act_as, make_user)
    assert len(pages) == len(PUBLIC_PAGES) + sum(map(len, SIGNED_IN_PAGES.values()))
    for name, html in pages.items():
        assert parse(html).problems == [], name


async def test_every_asset_and_module_import_exists(
    client: Client, act_as: ActAs, make_user: MakeUser
) -> None:
    pages = await _all_pages(client, act_as, make_user)
    assets = {src for html in pages.values() for src in parse(html).assets}
    assert any("/static/accounts/" in src for src in assets)
    for src in assets:
        response = await client.get(src)
        assert response.status == 200, src
    for module in STATIC.glob("*.js"):
        for name in module_imports(module.name):
            assert (STATIC / name).exists(), f"{module.name} imports missing {name}"


async def test_reset_token_is_escaped(client: Client) -> None:
    html = await (await client.get('/reset?token="><script>alert(1)</script>', headers=HTML)).text()
    assert "<script>alert(1)" not in html
    assert parse(html).problems == []
