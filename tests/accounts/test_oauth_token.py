"""The OAuth2 token endpoint: the three grants and RFC 6749 errors."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from plugins.accounts.authn import forget_client
from plugins.accounts.tables import ApiClient
from storage.passwords import hash_password
from tests.accounts.auth_support import ME, TOKEN, claims_of, services_of
from tests.accounts.conftest import PASSWORD, Client, MakeUser

CLIENT_ID = "lms-connector"
CLIENT_SECRET = "s3cret-value-for-the-lms-connector"


async def _make_client(client: Client, roles: str = "examiner") -> None:
    async with services_of(client).db.session() as db:
        db.add(
            ApiClient(
                client_id=CLIENT_ID,
                secret_hash=hash_password(CLIENT_SECRET),
                name="LMS",
                roles=roles,
            )
        )
        await db.commit()


async def _token(client: Client, form: dict[str, str], **kwargs: Any) -> tuple[int, Any, Any]:
    response = await client.post(TOKEN, data=form, **kwargs)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content_type == "application/json"
    return response.status, await response.json(), response


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def test_password_grant(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    form = {"grant_type": "password", "username": user.email, "password": PASSWORD}
    status, body, response = await _token(client, form)
    assert status == 200
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert "Set-Cookie" not in response.headers  # a cross-site form must gain nothing
    me = await client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status == 200


async def test_password_grant_failure_is_invalid_grant(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    form = {"grant_type": "password", "username": user.email, "password": "nope nope"}
    status, body, _ = await _token(client, form)
    assert status == 400
    assert body["error"] == "invalid_grant"
    assert body["error_description"]


async def test_refresh_token_grant_rotates(client: Client, make_user: MakeUser) -> None:
    user = await make_user()
    form = {"grant_type": "password", "username": user.email, "password": PASSWORD}
    _, first, _ = await _token(client, form)
    status, second, _ = await _token(
        client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert status == 200
    assert second["refresh_token"] != first["refresh_token"]
    status, replay, _ = await _token(
        client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert status == 400
    assert replay["error"] == "invalid_grant"


async def test_client_credentials_in_the_form_and_by_basic(client: Client) -> None:
    await _make_client(client)
    form = {"grant_type": "client_credentials"}
    with_form = {**form, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    status, body, _ = await _token(client, with_form)
    assert status == 200
    assert "refresh_token" not in body
    claims = claims_of(body["access_token"])
    assert claims["sub"] == f"client:{CLIENT_ID}"
    assert claims["roles"] == ["examiner"]
    assert "sid" not in claims
    status, by_basic, _ = await _token(client, form, headers=_basic(CLIENT_ID, CLIENT_SECRET))
    assert status == 200
    # Signed in (not 401), but a client has no account of its own.
    me = await client.get(ME, headers={"Authorization": f"Bearer {by_basic['access_token']}"})
    assert me.status == 403
    assert (await me.json())["error"]["code"] == "not_a_user"


async def test_client_tokens_stop_working_when_the_client_is_disabled(client: Client) -> None:
    await _make_client(client)
    form = {"grant_type": "client_credentials"}
    _, body, _ = await _token(client, form, headers=_basic(CLIENT_ID, CLIENT_SECRET))
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await client.get(ME, headers=headers)).status == 403
    services = services_of(client)
    async with services.db.session() as db:
        await db.execute(
            update(ApiClient).where(col(ApiClient.client_id) == CLIENT_ID).values(is_active=False)
        )
        await db.commit()
    await forget_client(services, CLIENT_ID)
    assert (await client.get(ME, headers=headers)).status == 401
    status, refused, _ = await _token(client, form, headers=_basic(CLIENT_ID, CLIENT_SECRET))
    assert status == 401
    assert refused["error"] == "invalid_client"


async def test_client_authentication_failures(client: Client) -> None:
    await _make_client(client)
    form = {"grant_type": "client_credentials"}
    for headers, extra in (
        (_basic(CLIENT_ID, "wrong"), {}),
        (_basic("unknown", CLIENT_SECRET), {}),
        ({}, {"client_id": CLIENT_ID, "client_secret": "wrong"}),
        ({}, {}),
        ({"Authorization": "Basic !!!"}, {}),
    ):
        status, body, response = await _token(client, {**form, **extra}, headers=headers)
        assert status == 401, (headers, extra)
        assert body["error"] == "invalid_client"
        assert response.headers["WWW-Authenticate"].startswith("Basic")


async def test_request_errors_in_rfc_form(client: Client) -> None:
    cases: list[tuple[Any, dict[str, str], str]] = [
        ({"grant_type": "implicit"}, {}, "unsupported_grant_type"),
        ({}, {}, "invalid_request"),
        ({"grant_type": "password", "username": "a@example.com"}, {}, "invalid_request"),
        ("grant_type=password&grant_type=refresh_token", {}, "invalid_request"),
        (
            {"grant_type": "password", "username": "a@b.c", "password": "p" * 200},
            {},
            "invalid_request",
        ),
    ]
    for form, headers, error in cases:
        status, body, _ = await _token(client, form, headers=headers)
        assert status == 400, form
        assert body["error"] == error, form
    response = await client.post(TOKEN, json={"grant_type": "password"})
    assert response.status == 400
    assert (await response.json())["error"] == "invalid_request"
    both = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
    status, body, _ = await _token(client, both, headers=_basic(CLIENT_ID, CLIENT_SECRET))
    assert (status, body["error"]) == (400, "invalid_request")


async def test_token_endpoint_is_documented(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    operation = document["paths"][TOKEN]["post"]
    assert "x-www-form-urlencoded" in operation["description"]
