"""The ``invigilator`` command line: serve, worker, migrate, seed-demo, plugins, config.

Configuration errors end the command with exit status 2 and a message naming the bad variable
or ``plugins.toml`` field, never with a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from aiohttp import web

from core import __version__
from core.errors import ConfigError
from core.plugin_manager import InvigilatorPluginManager, call_async_hook
from core.settings import Settings, load_settings
from webapp.config_report import describe_config
from webapp.logging_setup import configure_logging
from webapp.plugins_try import plugins_try

F = TypeVar("F", bound=Callable[..., Any])


def config_errors_exit(function: F) -> F:
    """Turn a ConfigError into a clear message and exit status 2."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ConfigError as error:
            click.secho(f"configuration error: {error.message}", fg="red", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _settings(**overrides: Any) -> Settings:
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def _plugins(settings: Settings) -> InvigilatorPluginManager:
    from webapp.app import load_plugin_manager  # noqa: PLC0415

    return load_plugin_manager(settings)


class PluginAwareGroup(click.Group):
    """Adds plugin commands (``invigilator_cli_commands``) when the CLI starts."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            problem = self._add_plugin_commands()
            command = super().get_command(ctx, cmd_name)
            if command is None and problem is not None:  # perhaps a plugin's command: say why
                click.secho(f"configuration error: {problem.message}", fg="red", err=True)
                sys.exit(2)
        return command

    def _add_plugin_commands(self) -> ConfigError | None:
        """Add the commands of the plugins ``plugins.toml`` names (once per plugins file: a
        process that runs the CLI under another configuration, as tests do, gets its commands
        too; commands already added keep their place)."""
        try:
            settings = load_settings()
        except ConfigError as error:
            return error
        source = str(settings.plugins_file)
        if source in getattr(self, "_plugin_sources", set()):
            return None
        try:
            pm = _plugins(settings)
        except ConfigError as error:
            return error  # the command that runs reports it; the next invocation tries again
        self._plugin_sources: set[str] = {*getattr(self, "_plugin_sources", set()), source}
        for commands in pm.hook.invigilator_cli_commands():
            for command in commands or ():
                known = self.commands.get(command.name or "")
                if known is command:
                    continue
                if known is not None:
                    click.secho(f"plugin command {command.name!r} clashes; skipped", err=True)
                    continue
                self.add_command(command)
        return None


@click.group(cls=PluginAwareGroup)
@click.version_option(__version__, prog_name="invigilator")
def main() -> None:
    """Invigilator: self-hostable realtime AI exam proctoring."""


@main.command()
@click.option("--host", default=None, help="Interface to bind (INVIGILATOR_HOST).")
@click.option("--port", type=int, default=None, help="Port to bind (INVIGILATOR_PORT).")
@config_errors_exit
def serve(host: str | None, port: int | None) -> None:
    """Serve the web app, API and WebRTC signaling."""
    from webapp.app import create_app  # noqa: PLC0415

    settings = _settings(host=host, port=port)
    configure_logging(settings)
    app = create_app(settings)
    failed = app_failed_plugins(app)
    for line in failed:
        click.secho(f"plugin failed: {line}", fg="yellow", err=True)
    click.echo(f"Invigilator {__version__} on {settings.effective_public_url}", err=True)
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            access_log=None,
            print=None,
            shutdown_timeout=10,
        )
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"{settings.host}:{settings.port} is already in use; stop the other server or "
                "set INVIGILATOR_PORT"
            ) from error
        raise


def app_failed_plugins(app: web.Application) -> list[str]:
    from webapp.keys import PLUGINS  # noqa: PLC0415

    return [f"{r.name}: {r.reason}" for r in app[PLUGINS].failed()]


@main.command()
@click.option("--burst", is_flag=True, help="Run queued jobs, then exit.")
@config_errors_exit
def worker(burst: bool) -> None:
    """Run background jobs from Redis (arq). The in-process broker runs jobs inside serve."""
    settings = _settings()
    configure_logging(settings)
    if not settings.broker_url.startswith("redis"):
        raise ConfigError(
            "INVIGILATOR_BROKER_URL: a separate worker needs redis://; with memory:// the "
            "server runs jobs itself"
        )
    asyncio.run(_run_worker(settings, burst))


async def _run_worker(settings: Settings, burst: bool) -> None:
    from storage.broker.arq_jobs import run_worker  # noqa: PLC0415
    from webapp.lifecycle import plugin_jobs, start_services, stop_services  # noqa: PLC0415

    pm = _plugins(settings)
    services = await start_services(settings, pm)
    try:
        await run_worker(
            settings.broker_url,
            plugin_jobs(pm),
            {"services": services},
            settings.worker_concurrency,
            burst=burst,
        )
    finally:
        await stop_services(services, pm)


@main.command()
@click.option("--check", is_flag=True, help="Only report pending revisions (exit 1 if any).")
@config_errors_exit
def migrate(check: bool) -> None:
    """Bring the relational schema up to date (kernel and plugin revisions)."""
    from storage.migrate import pending_revisions, upgrade  # noqa: PLC0415
    from webapp.lifecycle import plugin_migration_dirs  # noqa: PLC0415

    settings = _settings()
    dirs = plugin_migration_dirs(_plugins(settings))
    url = settings.effective_database_url
    if check:
        pending = pending_revisions(url, dirs)
        click.echo("schema current" if not pending else f"pending: {', '.join(pending)}")
        sys.exit(1 if pending else 0)
    pending = pending_revisions(url, dirs)
    upgrade(url, dirs)
    if pending:
        click.echo(f"upgraded to: {', '.join(pending)}")
    click.echo("schema current")


@main.command("seed-demo")
@config_errors_exit
def seed_demo() -> None:
    """Create demo data (idempotent) and print the demo logins."""
    settings = _settings()
    configure_logging(settings)
    for line in asyncio.run(_seed(settings)):
        click.echo(line)


async def _seed(settings: Settings) -> list[str]:
    from storage.migrate import upgrade_async  # noqa: PLC0415
    from webapp.lifecycle import (  # noqa: PLC0415
        plugin_migration_dirs,
        start_services,
        stop_services,
    )

    pm = _plugins(settings)
    await upgrade_async(settings.effective_database_url, plugin_migration_dirs(pm))
    services = await start_services(settings, pm)
    try:
        results = await call_async_hook(pm, "invigilator_seed_demo", services=services)
    finally:
        await stop_services(services, pm)
    return [line for _name, lines in results for line in lines or ()]


@main.group()
def plugins() -> None:
    """Inspect plugins."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_errors_exit
def plugins_list(as_json: bool) -> None:
    """Each plugin with its source, status, hooks and the reason when it failed."""
    pm = _plugins(_settings())
    records = list(pm.records.values())
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in records], indent=2))
        return
    for record in records:
        colour = {"loaded": "green", "failed": "red", "disabled": "yellow"}[record.status]
        click.echo(
            f"{record.name:<24} {record.source:<10} "
            + click.style(f"{record.status:<8}", fg=colour)
            + f" {record.module}"
        )
        if record.reason:
            click.echo(f"    reason: {record.reason}")
        if record.hooks:
            click.echo(f"    hooks:  {', '.join(record.hooks)}")
    for problem in pm.section_problems:
        click.secho(f"warning: {problem.message}", fg="yellow")


plugins.add_command(plugins_try)


@main.group()
def config() -> None:
    """Inspect configuration."""


@config.command("check")
@config_errors_exit
def config_check() -> None:
    """Validate settings and plugins.toml; exit 2 on an invalid field, 1 on a failed plugin."""
    settings = _settings()
    pm = _plugins(settings)
    for line in describe_config(settings, pm):
        click.echo(line)
    if pm.failed():
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
