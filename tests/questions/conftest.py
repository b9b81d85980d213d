"""Fixtures for the question bank: a real app on embedded backends, users, acting as them.

``act_as`` short-circuits authentication (the accounts plugin's sign-in is tested there); the
bank's own role checks still run, because roles are enforced by the web layer from the
principal the authenticator returns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
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

Client = TestClient[web.Request, web.Application]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def questions_config() -> str:
    """Override in a test module to change ``[questions]`` settings (TOML lines)."""
    return ""


@pytest.fixture
def settings(tmp_path: Path, questions_config: str) -> Settings:
    plugins_file = tmp_path / "plugins.toml"
    plugins_file.write_text(f"[plugins]\nentry_points = false\n\n[questions]\n{questions_config}\n")
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=plugins_file,
        log_format="text",
        rate_limit_per_minute=0,
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )


@dataclass
class ActAs:
    principal: Principal | None = None

    async def __call__(self, request: web.Request) -> Principal | None:
        return self.principal

    def user(self, user: User | None) -> None:
        self.principal = (
            None
            if user is None
            else Principal(user_id=str(user.id), roles=frozenset({str(user.role)}))
        )


@pytest.fixture
def app(settings: Settings) -> web.Application:
    application = create_app(settings)
    application[AUTHENTICATE] = ActAs()  # type: ignore[misc]
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
    counter = iter(range(1, 10_000))

    async def make(role: Role | str = Role.CANDIDATE) -> User:
        number = next(counter)
        role = Role(role)
        async with client.app[SERVICES].db.session() as session:
            return await create_user(
                session,
                user_in=UserCreate(
                    email=f"{role.value}{number}@example.com",
                    display_name=f"{role.value.title()} {number}",
                    role=role,
                    password=PASSWORD,
                ),
            )

    return make


@pytest.fixture
async def examiner(make_user: MakeUser, act_as: ActAs) -> User:
    """An examiner, signed in for the test's requests."""
    user = await make_user(Role.EXAMINER)
    act_as.user(user)
    return user


def single_choice(**overrides: Any) -> dict[str, Any]:
    """A valid create body; tests change one thing at a time."""
    body: dict[str, Any] = {
        "type": "single_choice",
        "title": "Capital of France",
        "body": "Which city is the **capital** of France?",
        "points": 2,
        "payload": {
            "type": "single_choice",
            "options": [
                {"id": "a", "text": "Paris", "correct": True, "feedback": "Right."},
                {"id": "b", "text": "Lyon"},
                {"id": "c", "text": "Nice"},
            ],
        },
        "tags": ["geography", "Europe"],
        "difficulty": "easy",
        "explanation": "Paris has been the capital since 987.",
    }
    body.update(overrides)
    return body
