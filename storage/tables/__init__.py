"""SQLModel tables owned by the kernel. Importing this package registers them on the metadata."""

from storage.tables.user import Role, User, UserCreate, UserPublic, UserUpdate

__all__ = ["Role", "User", "UserCreate", "UserPublic", "UserUpdate"]
