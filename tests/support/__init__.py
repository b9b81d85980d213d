"""Helpers shared by test suites: the real servers the production adapters are tested against."""
