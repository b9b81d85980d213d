"""Invigilator's kernel: settings, plugin manager and hookspecs, domain types and the storage ports.

``core`` imports none of the other top-level packages: it knows no transport, no storage engine
and no particular plugin. Everything else plugs into what is defined here.
"""

__version__ = "0.1.0"
