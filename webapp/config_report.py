"""A human summary of the effective configuration, with secrets masked (``config check``)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from core.plugin_manager import InvigilatorPluginManager
from core.settings import Settings


def mask_url(url: str) -> str:
    """Hide the password (and an S3 secret key) in a URL's user-info part."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def describe_config(settings: Settings, pm: InvigilatorPluginManager) -> list[str]:
    lines = [
        "settings: ok",
        f"  env            {settings.env}",
        f"  listen         {settings.host}:{settings.port}",
        f"  public url     {settings.effective_public_url}",
        f"  database       {mask_url(settings.effective_database_url)}",
        f"  event log      {mask_url(settings.effective_event_log_url)}",
        f"  blob store     {mask_url(settings.effective_blob_url)}",
        f"  broker         {mask_url(settings.broker_url)}",
        f"plugins file: {settings.plugins_file} ok",
    ]
    for section, value in sorted(pm.sections.items()):
        lines.append(f"  [{section}] {value.model_dump_json()}")
    for problem in pm.section_problems:
        lines.append(f"  warning: {problem.message}")
    loaded = [r.name for r in pm.records.values() if r.status == "loaded"]
    lines.append(f"plugins loaded: {', '.join(loaded) or 'none'}")
    for record in pm.records.values():
        if record.status == "failed":
            lines.append(f"plugin FAILED: {record.name}: {record.reason}")
        elif record.status == "disabled":
            lines.append(f"plugin disabled: {record.name}")
    return lines
