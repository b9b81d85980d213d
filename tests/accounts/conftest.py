"""Fixtures for the accounts plugin: a real app on embedded backends, users, and signing in.

``login`` signs in through the real API. ``act_as`` short-circuits authentication for tests of
authorisation logic that are not about sign-in itself; tests of sign-in, tokens and sessions
must use ``login``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.settings import Settings, load_settings
from storage.crud.user import create_user
from storage.tables.user import Role, User, UserCreate
from webapp.app import create_app
from webapp.keys import AUTHENTICATE, SERVICES, Principal

Client = TestClient  # type: ignore[type-arg]
PASSWORD = "correct horse battery staple"


def accounts_plugins_file(folder: Path, accounts: str = "") -> Path:
    """A plugins.toml with the built-ins only and optional ``[accounts]`` settings."""
    path = folder / "plugins.toml"
    path.write_text(f"[plugins]\nentry_points = false\n\n[accounts]\n{accounts}\n")
    return path


@pytest.fixture
def accounts_config() -> str:
    """Override in a test module to change ``[accounts]`` settings (TOML lines)."""
    return ""


@pytest.fixture
def settings(tmp_path: Path, accounts_config: str) -> Settings:
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=accounts_plugins_file(tmp_path, accounts_config),
        log_format="text",
        rate_limit_per_minute=0,
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )


@dataclass
class ActAs:
    """Authenticator wrapper: returns ``principal`` when set, else defers to the real one."""

    real: Callable[[web.Request], Awaitable[Principal | None]] | None
    principal: Principal | None = None
    calls: list[str] = field(default_factory=list)

    async def __call__(self, request: web.Request) -> Principal | None:
        if self.principal is not None:
            return self.principal
        return await self.real(request) if self.real is not None else None

    def user(self, user: User | None) -> None:
        if user is None:
            self.principal = None
            return
        self.principal = Principal(
            user_id=str(user.id), roles=frozenset({str(user.role)}), session_id="test-session"
        )


@pytest.fixture
def app(settings: Settings) -> web.Application:
    application = create_app(settings)
    application[AUTHENTICATE] = ActAs(application.get(AUTHENTICATE))
    return application


@pytest.fixture
async def client(app: web.Application) -> AsyncIterator[Client]:
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
def act_as(app: web.Application) -> ActAs:
    holder = app[AUTHENTICATE]
    assert isinstance(holder, ActAs)
    return holder


MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture
def make_user(client: Client) -> MakeUser:
    """Create a user directly in the database (not through the API under test)."""
    counter = iter(range(1, 10_000))

    async def make(
        role: Role | str = Role.CANDIDATE,
        *,
        email: str | None = None,
        password: str = PASSWORD,
        display_name: str | None = None,
        is_active: bool = True,
    ) -> User:
        number = next(counter)
        role = Role(role)
        services = client.app[SERVICES]
        async with services.db.session() as session:
            return await create_user(
                session,
                user_in=UserCreate(
                    email=email or f"{role.value}{number}@example.com",
                    display_name=display_name or f"{role.value.title()} {number}",
                    role=role,
                    password=password,
                    is_active=is_active,
                ),
            )

    return make


async def login(client: Client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Sign in through the real API; returns the TokenResponse JSON. Cookies stay in the
    client's cookie jar, so later requests from ``client`` are signed in by cookie too."""
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def bearer(token_response: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_response['access_token']}"}
