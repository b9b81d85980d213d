"""Placeholder: being built."""

from webapp.routing import Router

router = Router()
