"""User CRUD. Emails are stored lower-cased so look-ups ignore case."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import Conflict
from storage.passwords import hash_password
from storage.tables.user import User, UserCreate


async def create_user(session: AsyncSession, *, user_in: UserCreate) -> User:
    """Insert and commit a user; raise :class:`Conflict` when the email is taken."""
    user = User(
        email=str(user_in.email).lower(),
        display_name=user_in.display_name,
        role=user_in.role,
        is_active=user_in.is_active,
        password_hash=hash_password(user_in.password),
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise Conflict(f"an account with email {user.email} already exists") from error
    await session.refresh(user)
    return user


async def get_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    result = await session.execute(select(User).where(col(User.email) == email.lower()))
    return result.scalars().first()


async def count_users(session: AsyncSession) -> int:
    result = await session.execute(select(func.count()).select_from(User))
    return int(result.scalar_one())
