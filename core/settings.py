"""Process settings from the environment (``INVIGILATOR_*``), validated at boot.

Every backend is chosen by the scheme of one URL, so the embedded default (SQLite, a local blob
folder, an in-process broker) and production (MySQL, MongoDB, S3, Redis) differ only in
configuration. A bad value stops the process with a message that names the variable.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError

ENV_PREFIX = "INVIGILATOR_"

DATABASE_SCHEMES = ("sqlite+aiosqlite", "mysql+aiomysql")
EVENT_LOG_SCHEMES = ("sqlite", "mongodb")
BLOB_SCHEMES = ("file", "s3")
BROKER_SCHEMES = ("memory", "redis")


def _scheme(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else url.split(":", 1)[0]


class Settings(BaseSettings):
    """Everything a process needs to start. Field descriptions are shown by ``config check``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", validate_default=True, frozen=True
    )

    env: Literal["development", "test", "production"] = Field(
        "development",
        description="Deployment mode. Production refuses a missing secret key.",
    )
    host: str = Field("127.0.0.1", description="Interface the HTTP server binds to.")
    port: int = Field(8080, ge=0, le=65535, description="HTTP port (0 picks a free one).")
    public_url: str | None = Field(
        None, description="External base URL (used in signed links); defaults to http://host:port."
    )
    data_dir: Path = Field(
        Path("var"), description="Folder for the embedded database, blobs and generated secrets."
    )
    database_url: str = Field(
        "",
        description="Relational store. sqlite+aiosqlite:///path.db (default, under data_dir) "
        "or mysql+aiomysql://user:password@host:3306/dbname.",
    )
    event_log_url: str = Field(
        "",
        description="Event log. sqlite:///path.db (default, under data_dir) or "
        "mongodb://host:27017/dbname.",
    )
    blob_url: str = Field(
        "",
        description="Blob store. file:///path (default: data_dir/blobs) or "
        "s3://ACCESS_KEY:SECRET_KEY@host:9000/bucket?secure=false&region=us-east-1.",
    )
    broker_url: str = Field(
        "memory://",
        description="Cache, pub/sub and jobs. memory:// (in-process) or redis://host:6379/0.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key for signing tokens and URLs. Generated and kept in data_dir when unset "
        "(development and test only).",
    )
    plugins_file: Path = Field(Path("plugins.toml"), description="Plugin selection and config.")
    strict_plugins: bool = Field(
        False, description="Refuse to start when any plugin failed to import or load."
    )
    max_body_bytes: int = Field(
        10 * 1024 * 1024, gt=0, description="Largest request body accepted, in bytes."
    )
    rate_limit_per_minute: int = Field(
        600, ge=0, description="Requests per minute per client address (0 disables)."
    )
    rate_limit_burst: int = Field(120, ge=1, description="Requests a client may send at once.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Proxy addresses whose X-Forwarded-For header is believed (JSON list).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Minimum level of log records."
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="json: one object per line (production); text: for humans."
    )
    worker_concurrency: int = Field(
        8, ge=1, le=256, description="Background jobs one worker runs at once."
    )

    @field_validator("host")
    @classmethod
    def _host_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _check_urls(self) -> Settings:
        checks = (
            ("database_url", self.database_url, DATABASE_SCHEMES),
            ("event_log_url", self.event_log_url, EVENT_LOG_SCHEMES),
            ("blob_url", self.blob_url, BLOB_SCHEMES),
            ("broker_url", self.broker_url, BROKER_SCHEMES),
        )
        for name, url, schemes in checks:
            if url and _scheme(url) not in schemes:
                allowed = ", ".join(f"{s}://" for s in schemes)
                raise ValueError(f"{ENV_PREFIX}{name.upper()}: scheme must be one of {allowed}")
        if self.env == "production" and self.secret_key is None:
            raise ValueError(f"{ENV_PREFIX}SECRET_KEY: required when env is production")
        return self

    # Derived values: defaults that depend on data_dir.

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'invigilator.db'}"

    @property
    def effective_event_log_url(self) -> str:
        return self.event_log_url or f"sqlite:///{self.data_dir / 'events.db'}"

    @property
    def effective_blob_url(self) -> str:
        return self.blob_url or f"file://{(self.data_dir / 'blobs').resolve()}"

    @property
    def effective_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    def secret(self) -> bytes:
        """The signing key; in development it is generated once and kept in ``data_dir``.

        Called on every authenticated request, so the file is read once per process.
        """
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        return _stored_secret((self.data_dir / "secret_key").resolve())


@lru_cache(maxsize=8)
def _stored_secret(path: Path) -> bytes:
    if not path.exists():
        # Written to a private temporary file, then linked into place: another process either
        # sees no file or the whole key, and the first link wins.
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip().encode()


def describe_validation_error(error: ValidationError, *, prefix: str = "") -> str:
    """Render pydantic errors as ``FIELD: message`` lines a person can act on."""
    lines = []
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"])
        field = f"{prefix}{loc.upper()}" if prefix else loc
        message = item["msg"].removeprefix("Value error, ")
        lines.append(
            f"{field}: {message}" if loc and not message.startswith(prefix or "\0") else message
        )
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise :class:`ConfigError` naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(
            "invalid settings:\n" + describe_validation_error(error, prefix=ENV_PREFIX)
        ) from error
