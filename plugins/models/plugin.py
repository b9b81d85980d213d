"""Built-in plugin ``models``: owns ``[models]`` and adds ``invigilator models`` to the CLI.

The registry lives in a plugin rather than the kernel because only some detectors need
downloadable weights; a site that switches them off can switch this off too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import click
from pydantic import BaseModel

from core.hookspecs import hookimpl
from plugins.models.registry import SECTION, ModelsConfig


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {SECTION: ModelsConfig}


@hookimpl
def invigilator_cli_commands() -> Iterable[click.Command]:
    from plugins.models.cli import models  # noqa: PLC0415 (only the CLI needs it)

    return [models]
