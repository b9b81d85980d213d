"""Demo accounts for ``seed-demo``: one user per role, with logins printed for the person."""

from __future__ import annotations

from core.services import Services
from plugins.accounts.config import AccountsConfig
from storage.crud.user import create_user, get_user_by_email
from storage.tables.user import Role, UserCreate

DEMO_DOMAIN = "example.com"  # reserved for documentation (RFC 2606)

DEMO_USERS = (
    (Role.ADMIN, "demo-admin", "Ada Admin"),
    (Role.EXAMINER, "demo-examiner", "Evan Examiner"),
    (Role.PROCTOR, "demo-proctor", "Priya Proctor"),
    (Role.CANDIDATE, "demo-candidate", "Chen Candidate"),
)


async def seed_demo_users(services: Services) -> list[str]:
    config = services.section("accounts", AccountsConfig)
    lines = [f"Demo logins (password for all: {config.demo_password}):"]
    async with services.db.session() as session:
        for role, local, name in DEMO_USERS:
            email = f"{local}@{DEMO_DOMAIN}"
            if await get_user_by_email(session, email=email) is None:
                user_in = UserCreate(
                    email=email, display_name=name, role=role, password=config.demo_password
                )
                await create_user(session, user_in=user_in)
            lines.append(f"  {role.value:<10} {email}")
    return lines
