"""Alembic revisions for the kernel's tables; plugins add their own version folders."""
