"""Demo accounts for ``seed-demo``: one user per role, with logins printed for the person."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from core.hookspecs import hookimpl
from core.services import Services
from storage.crud.user import create_user, get_user_by_email
from storage.tables.user import Role, UserCreate

DEMO_DOMAIN = "example.com"  # reserved for documentation (RFC 2606)


class AccountsConfig(BaseModel):
    """The ``[accounts]`` table of plugins.toml."""

    demo_password: str = Field(
        "invigilator-demo",
        min_length=8,
        max_length=128,
        description="Password of the demo accounts seed-demo creates (change it or never "
        "seed a demo on a public server).",
    )


DEMO_USERS = (
    (Role.ADMIN, "demo-admin", "Ada Admin"),
    (Role.EXAMINER, "demo-examiner", "Evan Examiner"),
    (Role.PROCTOR, "demo-proctor", "Priya Proctor"),
    (Role.CANDIDATE, "demo-candidate", "Chen Candidate"),
)


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {"accounts": AccountsConfig}


@hookimpl
async def invigilator_seed_demo(services: Services) -> list[str]:
    config = services.section("accounts", AccountsConfig)
    lines = ["Demo logins (password for all: " + config.demo_password + "):"]
    async with services.db.session() as session:
        for role, local, name in DEMO_USERS:
            email = f"{local}@{DEMO_DOMAIN}"
            if await get_user_by_email(session, email=email) is None:
                await create_user(
                    session,
                    user_in=UserCreate(
                        email=email,
                        display_name=name,
                        role=role,
                        password=config.demo_password,
                    ),
                )
            lines.append(f"  {role.value:<10} {email}")
    return lines
