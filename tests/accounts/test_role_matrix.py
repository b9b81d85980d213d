"""Who may call what: every operation of the OpenAPI document against a written-out table.

For each operation the test calls it as anonymous and as each role and classifies the answer:
``401`` (the web layer's "sign in"), ``403`` (the web layer's "not your role") or ``allowed``
(anything else: the request got past the role check, whatever the handler then said). A route
added without a row here fails the test, so nobody can ship a route whose access was never
decided. The rows are the contract of docs/accounts.md.

The server under test runs the kernel and every built-in plugin, so this one table is the
whole product's access contract (docs/accounts.md, docs/exams.md).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import ClientTimeout

from plugins.accounts.tables import ApiClient
from storage.tables.user import Role, User
from tests.accounts.conftest import ActAs, Client, MakeUser
from webapp.keys import SERVICES

PUBLIC: frozenset[str] = frozenset()
ADMIN = frozenset({"admin"})
CANDIDATE = frozenset({"candidate"})
SIGNED_IN = frozenset({"admin", "examiner", "proctor", "candidate"})
STAFF = frozenset({"admin", "examiner"})

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    # kernel and system plugin
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/blobs/{key}"): PUBLIC,  # the signature in the URL is the credential
    ("GET", "/api/v1/system/version"): PUBLIC,
    ("GET", "/api/v1/system/plugins"): ADMIN,
    # authentication
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): SIGNED_IN,
    ("GET", "/api/v1/auth/me"): SIGNED_IN,
    ("PATCH", "/api/v1/auth/me"): SIGNED_IN,
    ("POST", "/api/v1/auth/password"): SIGNED_IN,
    ("POST", "/api/v1/auth/password/forgot"): PUBLIC,
    ("POST", "/api/v1/auth/password/reset"): PUBLIC,
    ("POST", "/api/v1/auth/register"): PUBLIC,
    ("GET", "/api/v1/auth/session/events"): SIGNED_IN,
    # users, clients and audit
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users/{user_id}"): SIGNED_IN,  # others than admins: only themselves
    ("PATCH", "/api/v1/users/{user_id}"): ADMIN,
    ("POST", "/api/v1/users/bulk"): ADMIN,
    ("POST", "/api/v1/users/import"): ADMIN,
    ("GET", "/api/v1/clients"): ADMIN,
    ("POST", "/api/v1/clients"): ADMIN,
    ("DELETE", "/api/v1/clients/{client_id}"): ADMIN,
    ("GET", "/api/v1/audit"): ADMIN,
    # face enrollment
    ("GET", "/api/v1/me/enrollment"): CANDIDATE,
    ("DELETE", "/api/v1/me/enrollment"): CANDIDATE,
    ("POST", "/api/v1/me/enrollment/consent"): CANDIDATE,
    ("PUT", "/api/v1/me/enrollment/photo"): CANDIDATE,
    ("GET", "/api/v1/me/enrollment/photo"): CANDIDATE,
    ("GET", "/api/v1/users/{user_id}/enrollment"): ADMIN,
    # question bank
    ("GET", "/api/v1/questions"): STAFF,
    ("POST", "/api/v1/questions"): STAFF,
    ("GET", "/api/v1/questions/{question_id}"): STAFF,
    ("PUT", "/api/v1/questions/{question_id}"): STAFF,
    ("DELETE", "/api/v1/questions/{question_id}"): STAFF,
    ("GET", "/api/v1/questions/{question_id}/versions"): STAFF,
    ("POST", "/api/v1/questions/import"): STAFF,
    ("GET", "/api/v1/questions/export"): STAFF,
    ("GET", "/api/v1/question-categories"): STAFF,
    ("POST", "/api/v1/question-categories"): STAFF,
    # exams, attempts, grading and results
    ("GET", "/api/v1/exams"): STAFF,
    ("POST", "/api/v1/exams"): STAFF,
    ("GET", "/api/v1/exams/{exam_id}"): STAFF,
    ("PUT", "/api/v1/exams/{exam_id}"): STAFF,
    ("DELETE", "/api/v1/exams/{exam_id}"): STAFF,
    ("POST", "/api/v1/exams/{exam_id}/publish"): STAFF,
    ("GET", "/api/v1/exams/{exam_id}/sections"): STAFF,
    ("PUT", "/api/v1/exams/{exam_id}/sections"): STAFF,
    ("GET", "/api/v1/exams/{exam_id}/candidates"): STAFF,
    ("PUT", "/api/v1/exams/{exam_id}/candidates"): STAFF,
    ("POST", "/api/v1/exams/{exam_id}/time-credit"): STAFF,
    ("GET", "/api/v1/exams/{exam_id}/results"): STAFF,
    ("GET", "/api/v1/exams/{exam_id}/results.csv"): STAFF,
    ("POST", "/api/v1/exams/{exam_id}/release"): STAFF,
    ("GET", "/api/v1/grading/queue"): STAFF,
    ("PUT", "/api/v1/grading/{attempt_id}/{item}"): STAFF,
    ("GET", "/api/v1/my/exams"): CANDIDATE,
    ("POST", "/api/v1/my/exams/{exam_id}/attempts"): CANDIDATE,
    ("GET", "/api/v1/attempts/{attempt_id}"): CANDIDATE,  # and only its own candidate
    ("PUT", "/api/v1/attempts/{attempt_id}/answers/{item}"): CANDIDATE,
    ("POST", "/api/v1/attempts/{attempt_id}/submit"): CANDIDATE,
    ("GET", "/api/v1/attempts/{attempt_id}/result"): STAFF | CANDIDATE,
    # live proctoring
    ("GET", "/api/v1/rtc/ice-servers"): SIGNED_IN,  # candidates publish, staff watch
    ("POST", "/api/v1/attempts/{attempt_id}/rtc/offer"): CANDIDATE,  # own attempt, in progress
    ("DELETE", "/api/v1/attempts/{attempt_id}/rtc"): CANDIDATE,
    ("GET", "/api/v1/attempts/{attempt_id}/rtc/stats"): frozenset({"proctor"}) | STAFF,
    # the candidate's side of live proctoring (own exam or attempt only: others are 404)
    ("GET", "/api/v1/exams/{exam_id}/proctoring"): CANDIDATE,
    ("POST", "/api/v1/exams/{exam_id}/proctoring/consent"): CANDIDATE,
    ("POST", "/api/v1/exams/{exam_id}/rtc/check"): CANDIDATE,
    ("GET", "/api/v1/exams/{exam_id}/rtc/check"): CANDIDATE,
    ("DELETE", "/api/v1/exams/{exam_id}/rtc/check"): CANDIDATE,
    ("POST", "/api/v1/exams/{exam_id}/rtc/check/calibrate"): CANDIDATE,
    ("GET", "/api/v1/attempts/{attempt_id}/live"): CANDIDATE,  # WebSocket
    ("GET", "/api/v1/proctor/tiles"): frozenset({"proctor"}) | STAFF,
    ("GET", "/api/v1/proctor/live"): frozenset({"proctor"}) | STAFF,
    ("GET", "/api/v1/proctor/attempts/{attempt_id}"): frozenset({"proctor"}) | STAFF,
    ("GET", "/api/v1/proctor/attempts/{attempt_id}/timeline"): frozenset({"proctor"}) | STAFF,
    ("GET", "/api/v1/proctor/attempts/{attempt_id}/thumbnail"): frozenset({"proctor"}) | STAFF,
    ("GET", "/api/v1/proctor/attempts/{attempt_id}/snapshots/{name}"): frozenset({"proctor"})
    | STAFF,
    ("POST", "/api/v1/proctor/attempts/{attempt_id}/actions"): frozenset({"proctor"}) | STAFF,
    ("PUT", "/api/v1/proctor/attempts/{attempt_id}/violations/{violation_id}/review"): frozenset(
        {"proctor"}
    )
    | STAFF,
    ("POST", "/api/v1/proctor/attempts/{attempt_id}/score/recompute"): frozenset({"proctor"})
    | STAFF,
    ("POST", "/api/v1/proctor/attempts/{attempt_id}/watch"): frozenset({"proctor"}) | STAFF,
    ("DELETE", "/api/v1/proctor/attempts/{attempt_id}/watch"): frozenset({"proctor"}) | STAFF,
    # notifications: my inbox and settings; the delivery history and webhooks are admins'
    ("GET", "/api/v1/notifications"): SIGNED_IN,
    ("POST", "/api/v1/notifications/{notification_id}/read"): SIGNED_IN,
    ("GET", "/api/v1/notifications/live"): SIGNED_IN,
    ("GET", "/api/v1/notifications/preferences"): SIGNED_IN,
    ("PUT", "/api/v1/notifications/preferences"): SIGNED_IN,
    ("GET", "/api/v1/admin/notifications"): ADMIN,
    ("POST", "/api/v1/admin/notifications/{message_id}/retry"): ADMIN,
    ("GET", "/api/v1/admin/webhooks"): ADMIN,
    ("POST", "/api/v1/admin/webhooks"): ADMIN,
    ("PATCH", "/api/v1/admin/webhooks/{webhook_id}"): ADMIN,
    ("DELETE", "/api/v1/admin/webhooks/{webhook_id}"): ADMIN,
    # coding judge: candidates run samples of their own attempt; examiners read every test
    ("GET", "/api/v1/judge/languages"): SIGNED_IN,
    ("POST", "/api/v1/judge/attempts/{attempt_id}/items/{item}/runs"): CANDIDATE,
    ("GET", "/api/v1/judge/runs/{run_id}"): CANDIDATE,  # and only its own candidate
    ("GET", "/api/v1/judge/attempts/{attempt_id}/submissions"): STAFF,
    # question generation: drafts are examiners' until approved into the bank
    ("POST", "/api/v1/generation/jobs"): STAFF,
    ("POST", "/api/v1/generation/jobs/upload"): STAFF,
    ("GET", "/api/v1/generation/jobs/{job_id}"): STAFF,
    ("GET", "/api/v1/generation/drafts"): STAFF,
    ("PUT", "/api/v1/generation/drafts/{draft_id}"): STAFF,
    ("POST", "/api/v1/generation/drafts/{draft_id}/approve"): STAFF,
    ("POST", "/api/v1/generation/drafts/{draft_id}/reject"): STAFF,
    # support tickets: candidates open them; everyone sees only what they may (own or staff)
    ("POST", "/api/v1/support/tickets"): CANDIDATE,
    ("GET", "/api/v1/support/tickets"): SIGNED_IN,
    ("GET", "/api/v1/support/tickets/{ticket_id}"): SIGNED_IN,
    ("POST", "/api/v1/support/tickets/{ticket_id}/messages"): SIGNED_IN,
    ("PUT", "/api/v1/support/tickets/{ticket_id}/status"): SIGNED_IN,
    ("POST", "/api/v1/support/tickets/{ticket_id}/read"): SIGNED_IN,
    # identity (face verification against the caller's own enrolled photo)
    ("POST", "/api/v1/identity/verify"): CANDIDATE,
    ("GET", "/api/v1/attempts/{attempt_id}/identity"): frozenset({"proctor"}) | STAFF,
}

# Pages are not in the OpenAPI document (``include_in_schema=False``), so they have a table of
# their own, checked the same way with a browser's Accept header: "401" is the sign-in redirect.
PAGES: dict[str, frozenset[str]] = {
    "/proctor": frozenset({"proctor"}) | STAFF,
    "/proctor/attempts/{attempt_id}": frozenset({"proctor"}) | STAFF,  # 404 page when unknown
    "/proctor/review/{attempt_id}": frozenset({"proctor"}) | STAFF,
    "/notifications": SIGNED_IN,
    "/admin/notifications": ADMIN,
    "/admin/judge/attempts/{attempt_id}": STAFF,
    "/admin/generate": STAFF,
    "/support": CANDIDATE,
    "/support/tickets": frozenset({"proctor"}) | STAFF,
    "/support/tickets/{ticket_id}": SIGNED_IN,  # own ticket or staff; 404 page when unknown
}

# Callers in this order: the admin goes last because its calls may delete the sample client.
CALLERS = (None, Role.CANDIDATE, Role.PROCTOR, Role.EXAMINER, Role.ADMIN)
_PARAM = re.compile(r"{([^}]+)}")


async def _operations(client: Client) -> dict[tuple[str, str], dict[str, Any]]:
    document = await (await client.get("/openapi.json")).json()
    return {
        (method.upper(), path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


def _outcome(status: int, body: Any) -> str:
    """Which gate answered: only the web layer's own role answers count as 401/403; a handler's
    "invalid refresh token" 401 means the caller was let through to the handler."""
    error = body.get("error", {}) if isinstance(body, dict) else {}
    if status == 401 and error.get("code") == "unauthorized":
        return "401"
    if status == 403 and error.get("code") == "forbidden":
        return "403"
    return "allowed"


def _expected(allowed: frozenset[str], caller: Role | None) -> str:
    if not allowed:
        return "allowed"
    if caller is None:
        return "401"
    return "allowed" if caller.value in allowed else "403"


async def _call(client: Client, method: str, url: str) -> tuple[int, Any]:
    response = await client.request(method, url, timeout=ClientTimeout(total=10))
    try:
        body = await response.json(content_type=None)
    except ValueError:
        body = None
    return response.status, body


@pytest.fixture
async def users(make_user: MakeUser) -> dict[Role | str, User]:
    people: dict[Role | str, User] = {role: await make_user(role) for role in Role}
    people["target"] = await make_user(Role.CANDIDATE, email="someone.else@example.com")
    return people


async def test_every_route_has_a_row_and_no_row_is_stale(client: Client) -> None:
    actual = set(await _operations(client))
    unlisted = sorted(actual - set(EXPECTED))
    stale = sorted(set(EXPECTED) - actual)
    assert not unlisted, f"routes without a row in EXPECTED (decide who may call them): {unlisted}"
    assert not stale, f"rows in EXPECTED for routes that do not exist: {stale}"


async def test_declared_roles_match_the_table(client: Client) -> None:
    for key, operation in (await _operations(client)).items():
        declared = frozenset(operation.get("x-roles", ()))
        assert declared == EXPECTED.get(key, declared), key


async def test_every_operation_as_every_caller(
    client: Client, act_as: ActAs, users: dict[Role | str, User]
) -> None:
    async with client.app[SERVICES].db.session() as db:
        sample = ApiClient(client_id="cli_matrix", secret_hash="x", name="Matrix", roles="admin")
        db.add(sample)
        await db.commit()
    values = {
        "user_id": str(users["target"].id),
        "client_id": "cli_matrix",
        "key": "a/b.txt",
        "question_id": "1",
        "exam_id": "1",
        "attempt_id": "0123456789abcdef0123456789abcdef",
        "item": "0",
        "violation_id": "0123456789abcdef",
        "name": "1.jpg",
        "webhook_id": "1",
        "message_id": "1",
        "notification_id": "1",
        "run_id": "0123456789abcdef0123456789abcdef",
        "job_id": "1",
        "draft_id": "1",
        "ticket_id": "1",
    }
    operations = await _operations(client)
    mismatches = []
    for caller in CALLERS:
        act_as.user(None if caller is None else users[caller])
        for (method, path), _operation in sorted(operations.items()):
            missing = [name for name in _PARAM.findall(path) if name not in values]
            assert not missing, f"{method} {path}: add a sample value for {missing}"
            url = _PARAM.sub(lambda match: values[match.group(1)], path)
            status, body = await _call(client, method, url)
            got = _outcome(status, body)
            want = _expected(EXPECTED.get((method, path), PUBLIC), caller)
            if got != want:
                who = caller.value if caller else "anonymous"
                mismatches.append(f"{method} {path} as {who}: {got} ({status}), expected {want}")
    assert not mismatches, "\n".join(mismatches)


async def test_every_page_row_as_every_caller(
    client: Client, act_as: ActAs, users: dict[Role | str, User]
) -> None:
    routes = {resource.canonical for resource in client.app.router.resources()}
    assert not set(PAGES) - routes, "rows in PAGES for pages that do not exist"
    mismatches = []
    for caller in CALLERS:
        act_as.user(None if caller is None else users[caller])
        for path, allowed in PAGES.items():
            url = _PARAM.sub("0123456789abcdef0123456789abcdef", path)
            response = await client.get(url, headers={"Accept": "text/html"}, allow_redirects=False)
            signing_in = response.headers.get("Location", "").startswith("/login")
            got = {403: "403"}.get(response.status, "401" if signing_in else "allowed")
            if got != _expected(allowed, caller):
                who = caller.value if caller else "anonymous"
                mismatches.append(f"{path} as {who}: {got} ({response.status})")
    assert not mismatches, "\n".join(mismatches)


async def test_a_candidate_sees_only_their_own_account(
    client: Client, act_as: ActAs, users: dict[Role | str, User]
) -> None:
    act_as.user(users[Role.CANDIDATE])
    own = await client.get(f"/api/v1/users/{users[Role.CANDIDATE].id}")
    assert own.status == 200
    for other in (users["target"], users[Role.ADMIN], users[Role.PROCTOR]):
        response = await client.get(f"/api/v1/users/{other.id}")
        assert response.status == 404, other.email
        assert other.email not in await response.text()


async def test_a_candidate_reaches_no_admin_route(
    client: Client, act_as: ActAs, users: dict[Role | str, User]
) -> None:
    act_as.user(users[Role.CANDIDATE])
    admin_routes = [key for key, roles in EXPECTED.items() if "candidate" not in roles and roles]
    assert len(admin_routes) >= 11
    for method, path in admin_routes:
        url = _PARAM.sub("1", path)
        status, body = await _call(client, method, url)
        assert (status, _outcome(status, body)) == (403, "403"), (method, path)
