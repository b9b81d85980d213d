"""Built-in plugin ``evaluation``: adds ``invigilator eval`` to the CLI.

Accuracy is measured by an operator or in CI, never while serving, so the command lives in a
plugin of its own rather than in the kernel; a site can switch it off like any other plugin.
"""

from __future__ import annotations

from collections.abc import Iterable

import click

from core.hookspecs import hookimpl


@hookimpl
def invigilator_cli_commands() -> Iterable[click.Command]:
    from plugins.evaluation.cli import evaluate  # noqa: PLC0415 (only the CLI needs it)

    return [evaluate]
