"""Keyword-only CRUD functions over the kernel's tables; each takes an open session."""
