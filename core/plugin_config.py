"""``plugins.toml``: which plugins run and the typed configuration of each.

The file has one table the kernel owns, ``[plugins]``, and one table per plugin section that a
plugin claims through the ``invigilator_config_sections`` hook. Parsing happens in two steps:
:func:`read_plugins_file` checks the syntax and the ``[plugins]`` table before any plugin is
imported; :func:`validate_sections` checks every section against the model its plugin declared,
once the plugins are known. Both raise :class:`ConfigError` with the file, table and field named.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError


class PluginSelection(BaseModel):
    """The ``[plugins]`` table."""

    model_config = ConfigDict(extra="forbid")

    disabled: list[str] = Field(
        default_factory=list,
        description="Names of built-in or installed plugins to switch off, e.g. ['system'].",
    )
    modules: list[str] = Field(
        default_factory=list,
        description="Extra plugin modules to load by import path, after the built-ins.",
    )
    entry_points: bool = Field(
        True,
        description="Load plugins installed as packages (entry point group 'invigilator.plugins').",
    )


@dataclass(frozen=True)
class PluginsFile:
    """The parsed file: the selection plus raw section tables awaiting validation."""

    path: Path
    selection: PluginSelection
    raw_sections: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class SectionProblem:
    """A section no loaded plugin claims (a typo, or its plugin failed to load)."""

    section: str
    message: str


def _format_errors(path: Path, table: str, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"])
        where = f"[{table}].{loc}" if loc else f"[{table}]"
        lines.append(f"{path.name}: {where}: {item['msg']}")
    return "\n".join(lines)


def read_plugins_file(path: Path) -> PluginsFile:
    """Parse the file; a missing file means defaults (all built-ins, no sections)."""
    if not path.exists():
        return PluginsFile(path=path, selection=PluginSelection())
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path.name}: not valid TOML: {error}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path.name}: cannot be read: {error}") from error
    raw_selection = document.pop("plugins", {})
    if not isinstance(raw_selection, dict):
        raise ConfigError(f"{path.name}: [plugins] must be a table")
    try:
        selection = PluginSelection.model_validate(raw_selection)
    except ValidationError as error:
        raise ConfigError(_format_errors(path, "plugins", error)) from error
    sections: dict[str, dict[str, Any]] = {}
    for name, value in document.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{path.name}: top-level key '{name}' must be a table ([{name}])")
        sections[name] = value
    return PluginsFile(path=path, selection=selection, raw_sections=sections)


def validate_sections(
    plugins_file: PluginsFile, models: dict[str, type[BaseModel]]
) -> tuple[dict[str, BaseModel], list[SectionProblem]]:
    """Validate each claimed section; sections with no claimant come back as problems.

    Claimed sections absent from the file get their model's defaults, so a plugin can always
    read its config.
    """
    validated: dict[str, BaseModel] = {}
    errors: list[str] = []
    for section, model in models.items():
        raw = plugins_file.raw_sections.get(section, {})
        try:
            validated[section] = model.model_validate(raw)
        except ValidationError as error:
            errors.append(_format_errors(plugins_file.path, section, error))
    if errors:
        raise ConfigError("\n".join(errors))
    problems = [
        SectionProblem(
            section=name,
            message=f"{plugins_file.path.name}: [{name}] is not claimed by any loaded plugin",
        )
        for name in plugins_file.raw_sections
        if name not in models
    ]
    return validated, problems
