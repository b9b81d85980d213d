"""``invigilator models list | pull | verify``: the only way weights reach the models folder.

Exit status: 0 when everything asked for is in order, 1 when a pull fails or a file does not
match its pinned checksum, 2 for an unknown model name or invalid configuration.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from plugins.models.registry import SECTION, ModelError, ModelsConfig, ModelState, inspect, pull
from webapp.cli import config_errors_exit

VERDICT_TEXT = {
    "ok": "yes",
    "mismatch": "NO: sha256 differs",
    "unpinned": "no sha256 set",
    "absent": "-",
}


def _config() -> tuple[ModelsConfig, Path]:
    """The validated ``[models]`` section and the models folder, as ``serve`` would see them."""
    from core.settings import load_settings  # noqa: PLC0415 (the CLI's composition root)
    from webapp.app import load_plugin_manager  # noqa: PLC0415

    settings = load_settings()
    section = load_plugin_manager(settings).sections.get(SECTION)
    config = section if isinstance(section, ModelsConfig) else ModelsConfig()
    return config, config.path(settings.data_dir)


def _entry_names(config: ModelsConfig, name: str | None) -> list[str]:
    if name is None:
        return sorted(config.registry)
    if name not in config.registry:
        known = ", ".join(sorted(config.registry)) or "none"
        raise click.UsageError(f"unknown model {name!r}; known: {known}")
    return [name]


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    if value < 1 << 20:
        return f"{value / 1024:.0f} KiB"
    return f"{value / (1 << 20):.1f} MiB"


def _print_states(states: list[ModelState]) -> None:
    click.echo(f"{'NAME':<16} {'PRESENT':<8} {'VERIFIED':<20} {'SIZE':>10}  PATH")
    for state in states:
        verified = VERDICT_TEXT[state.verdict]
        colour = {"ok": "green", "mismatch": "red"}.get(state.verdict)
        click.echo(
            f"{state.name:<16} {'yes' if state.present else 'no':<8} "
            + click.style(f"{verified:<20}", fg=colour)
            + f" {_size(state.size):>10}  {state.path}"
        )


@click.group()
def models() -> None:
    """Fetch and check model weights (the [models] registry of plugins.toml)."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_errors_exit
def list_models(as_json: bool) -> None:
    """Every registered model: present?, verified?, size, path."""
    config, folder = _config()
    states = [inspect(name, config.registry[name], folder) for name in sorted(config.registry)]
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in states], indent=2))
        return
    _print_states(states)
    click.echo(f"models folder: {folder}")


@models.command("pull")
@click.argument("name")
@click.option("--url", default=None, help="Fetch from here instead (a mirror, a file:// copy).")
@click.option("--force", is_flag=True, help="Fetch again even when a good copy is present.")
@config_errors_exit
def pull_model(name: str, url: str | None, force: bool) -> None:
    """Download NAME, check its size and sha256, and only then put it in the models folder."""
    config, folder = _config()
    (name,) = _entry_names(config, name)
    entry = config.registry[name]
    state = inspect(name, entry, folder)
    if state.verdict == "ok" and not force:
        click.echo(f"{name}: already present and verified at {state.path}")
        return
    click.echo(f"{name}: fetching {url or entry.url}", err=True)
    try:
        path = pull(name, entry, folder, url=url, timeout_s=config.timeout_s)
    except ModelError as error:
        click.secho(f"{name}: {error}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"{name}: verified and saved to {path}")


@models.command("verify")
@click.argument("name", required=False)
@config_errors_exit
def verify_models(name: str | None) -> None:
    """Re-hash present weights (NAME, or all); exit 1 if one does not match its sha256.

    A model named on the command line must also be present and pinned.
    """
    config, folder = _config()
    names = _entry_names(config, name)
    failed = False
    for each in names:
        state = inspect(each, config.registry[each], folder)
        line = f"{each}: {state.path}"
        if state.verdict == "ok":
            click.echo(f"{line}: ok")
        elif state.verdict == "mismatch":
            failed = True
            click.secho(f"{line}: sha256 MISMATCH (pull it again)", fg="red")
        elif state.verdict == "unpinned":
            failed = failed or name is not None
            click.echo(f"{line}: present, but no sha256 is configured to check it against")
        else:
            failed = failed or name is not None
            click.echo(f"{line}: absent (invigilator models pull {each})")
    sys.exit(1 if failed else 0)
