"""SQLModel tables owned by the kernel. Importing this package registers them on the metadata."""

from storage.tables.outbox import OutboxItem
from storage.tables.user import Role, User, UserCreate, UserPublic, UserUpdate

__all__ = ["OutboxItem", "Role", "User", "UserCreate", "UserPublic", "UserUpdate"]
