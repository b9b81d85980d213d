"""Named model weights: where they come from, what their bytes must hash to, where they live.

Some detectors need weights that no Python package ships (COCO object detectors), and nothing may
be downloaded while the server runs: a model that appears in the middle of an exam, fetched from
wherever a library's default points, is neither reviewable nor reproducible. So weights are
fetched only by an operator's explicit ``invigilator models pull NAME``, from a URL they can
review in ``plugins.toml``, and only kept when the file hashes to the SHA-256 pinned next to the
URL. A pull streams into a temporary file in the models folder and renames it into place only
after the checksum (and size) matched, so a detector never sees half a file or the wrong one.

Detectors name a model (``weights = "yolov8n"``) and call :func:`resolve_weights`, which answers
with the file or with an error that names the command that fixes it.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlsplit
from urllib.request import Request, urlopen

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core import __version__

SECTION = "models"
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
CHUNK = 1 << 20
STALE_PART_S = 3600  # a leftover partial download older than this belongs to a dead pull

YOLOV8N_URL = "https://github.com/ultralytics/assets/releases/download/v8.4.0/yolov8n.pt"


class ModelEntry(BaseModel):
    """One named model of ``[models.registry.<name>]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(
        min_length=8,
        description="Where `invigilator models pull` fetches the file: https://, http:// or "
        "file:// (a copy on a USB stick or a share in an offline site)",
    )
    sha256: str | None = Field(
        None,
        description="SHA-256 of the file (hex). Set by the operator after verifying it; pull "
        "refuses a model without one and keeps a file only when it matches",
    )
    size: int | None = Field(
        None, gt=0, description="Size in bytes; a download of another size is refused"
    )
    file: str | None = Field(
        None,
        description="File name in the models folder; default: the last part of the URL",
    )
    licence: str = Field("", max_length=200, description="The weights' licence, for operators")
    description: str = Field("", max_length=300, description="What the model is")

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme.lower() not in {"http", "https", "file"}:
            raise ValueError("url must start with https://, http:// or file://")
        return value

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        digest = value.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ValueError("sha256 must be 64 hexadecimal characters")
        return digest

    @field_validator("file")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", value):
            raise ValueError("file must be a plain file name (letters, digits, . _ -)")
        return value

    @property
    def filename(self) -> str:
        """The name the weights have in the models folder."""
        if self.file:
            return self.file
        name = unquote(urlsplit(self.url).path.rsplit("/", 1)[-1])
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", name):
            raise ValueError(f"cannot name a file after {self.url!r}: set `file`")
        return name


# The checksum and size are the values publicly recorded for this release asset by many
# independent users; `invigilator models verify` re-checks a copy at any time.
BUILTIN_MODELS: Mapping[str, ModelEntry] = {
    "yolov8n": ModelEntry(
        url=YOLOV8N_URL,
        sha256="f59b3d833e2ff32e194b5bb8e08d211dc7c5bdf144b90d2c8412c47ccfc83b36",
        size=6549796,
        licence="AGPL-3.0 (Ultralytics; an Enterprise licence is sold for other terms)",
        description="YOLOv8 nano trained on COCO (80 classes: person, cell phone, book, laptop)",
    ),
}


class ModelsConfig(BaseModel):
    """``[models]`` in plugins.toml."""

    model_config = ConfigDict(extra="forbid")

    folder: str = Field(
        "",
        description="Where weights are kept. Empty: <data_dir>/models; a relative path is "
        "taken under data_dir",
    )
    registry: dict[str, ModelEntry] = Field(
        default_factory=lambda: dict(BUILTIN_MODELS),
        description="Named models, one table each ([models.registry.NAME] with url, sha256, "
        "size, file, licence, description). The built-in yolov8n entry stays unless a table "
        "of the same name replaces it",
    )
    timeout_s: float = Field(
        60.0, gt=0, le=3600, description="pull: give up when the server is silent this long"
    )

    @field_validator("registry")
    @classmethod
    def _with_builtins(cls, value: dict[str, ModelEntry]) -> dict[str, ModelEntry]:
        for name in value:
            if not re.fullmatch(NAME_PATTERN, name):
                raise ValueError(f"model name {name!r}: use lowercase letters, digits, . _ -")
        files: dict[str, str] = {}
        merged = {**BUILTIN_MODELS, **value}
        for name, entry in merged.items():
            try:
                filename = entry.filename
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from error
            if filename in files:
                raise ValueError(f"{name} and {files[filename]} would share the file {filename}")
            files[filename] = name
        return merged

    def path(self, data_dir: Path) -> Path:
        """The models folder."""
        folder = Path(self.folder).expanduser() if self.folder else Path("models")
        return folder if folder.is_absolute() else Path(data_dir) / folder


class ModelError(Exception):
    """A model cannot be fetched, found or trusted; the message says what to do."""


class WeightsMissing(ModelError):
    """The weights a detector needs are not in the models folder."""


class WeightsMismatch(ModelError):
    """A file is there but its bytes are not the pinned ones."""


Verdict = Literal["ok", "mismatch", "unpinned", "absent"]


@dataclass(frozen=True)
class ModelState:
    """What ``invigilator models list`` shows for one model."""

    name: str
    entry: ModelEntry
    path: Path
    present: bool
    size: int | None
    verdict: Verdict

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "present": self.present,
            "verified": self.verdict == "ok",
            "verdict": self.verdict,
            "path": str(self.path),
            "size": self.size,
            "url": self.entry.url,
            "sha256": self.entry.sha256,
            "licence": self.entry.licence,
            "description": self.entry.description,
        }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def inspect(name: str, entry: ModelEntry, folder: Path) -> ModelState:
    """Whether a model's file is there and (when a checksum is pinned) the right one."""
    path = folder / entry.filename
    if not path.is_file():
        return ModelState(name, entry, path, False, None, "absent")
    size = path.stat().st_size
    if entry.sha256 is None:
        verdict: Verdict = "unpinned"
    elif (entry.size is not None and size != entry.size) or sha256_of(path) != entry.sha256:
        verdict = "mismatch"
    else:
        verdict = "ok"
    return ModelState(name, entry, path, True, size, verdict)


def pull(
    name: str,
    entry: ModelEntry,
    folder: Path,
    *,
    url: str | None = None,
    timeout_s: float = 60.0,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Fetch a model into ``folder`` and return its path; raise :class:`ModelError` otherwise.

    ``url`` replaces the configured one (a mirror, a file on removable media); the pinned
    checksum still decides. Nothing is left behind on failure, and a good file already there is
    only replaced by another good one.
    """
    if entry.sha256 is None:
        raise ModelError(
            "no sha256 is configured in plugins.toml: verify the file's checksum, set "
            f"[models.registry.{name}].sha256, then pull again"
        )
    source = url or entry.url
    scheme = urlsplit(source).scheme.lower()
    if scheme not in {"http", "https", "file"}:
        raise ModelError(f"{source!r}: only https://, http:// and file:// URLs can be pulled")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / entry.filename
    _remove_stale_parts(folder, entry.filename)
    handle, temp_name = tempfile.mkstemp(prefix=f".{entry.filename}.", suffix=".part", dir=folder)
    temp = Path(temp_name)
    try:
        received, digest = _download(source, handle, entry.size, timeout_s, progress)
        if entry.size is not None and received != entry.size:
            raise ModelError(
                f"received {received} bytes, expected {entry.size}: the download was "
                "cut short or the file is not the configured one; nothing was kept"
            )
        if digest != entry.sha256:
            raise ModelError(
                f"sha256 {digest} does not match the configured {entry.sha256}; nothing was kept"
            )
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_folder(folder)
    return target


def _download(
    source: str,
    handle: int,
    limit: int | None,
    timeout_s: float,
    progress: Callable[[int], None] | None,
) -> tuple[int, str]:
    digest = hashlib.sha256()
    received = 0
    agent = {"User-Agent": f"invigilator/{__version__}"}
    request = Request(source, headers=agent)  # noqa: S310 (the caller checked the scheme)
    with os.fdopen(handle, "wb") as out:
        try:
            with urlopen(request, timeout=timeout_s) as response:  # noqa: S310 (scheme checked)
                announced = _announced_length(response.headers.get("Content-Length"))
                while chunk := response.read(CHUNK):
                    received += len(chunk)
                    if limit is not None and received > limit:
                        raise ModelError(
                            f"{source}: more than the configured {limit} bytes; stopped, "
                            "nothing was kept"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                    if progress is not None:
                        progress(received)
                if announced is not None and received < announced:
                    # http.client ends a body cut short like a complete one: compare ourselves
                    raise ModelError(
                        f"{source}: the download was interrupted after {received} of "
                        f"{announced} bytes; nothing was kept, pull again"
                    )
        except HTTPError as error:
            raise ModelError(f"{source}: HTTP {error.code} {error.reason}") from error
        except http.client.IncompleteRead as error:
            raise ModelError(
                f"{source}: the download was interrupted after {received + len(error.partial)} "
                "bytes; nothing was kept, pull again"
            ) from error
        except URLError as error:
            raise ModelError(f"{source}: {error.reason}") from error
        except (OSError, http.client.HTTPException) as error:
            raise ModelError(
                f"{source}: the download failed after {received} bytes ({error}); "
                "nothing was kept, pull again"
            ) from error
        out.flush()
        os.fsync(out.fileno())
    return received, digest.hexdigest()


def _announced_length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _remove_stale_parts(folder: Path, filename: str) -> None:
    """Partial files of pulls that were killed (a fresh one may be another pull's)."""
    now = time.time()
    for part in folder.glob(f".{filename}.*.part"):
        try:
            if now - part.stat().st_mtime > STALE_PART_S:
                part.unlink()
        except OSError:
            continue


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def resolve_weights(spec: str, config: ModelsConfig, data_dir: Path) -> Path:
    """The file behind a detector's ``weights`` setting: a registry name or a path.

    A registry model must be present and, when its checksum is pinned, match it; the errors
    name the command that fixes them, because they end up in ``plugins list`` and the logs.
    A path (relative ones are taken in the models folder) is the operator's own file and is
    used as it is.
    """
    folder = config.path(data_dir)
    entry = config.registry.get(spec)
    if entry is not None:
        state = inspect(spec, entry, folder)
        if state.verdict == "absent":
            raise WeightsMissing(
                f"weights {spec!r} not found in {folder}: run `invigilator models pull {spec}`"
            )
        if state.verdict == "mismatch":
            raise WeightsMismatch(
                f"weights {spec!r} in {state.path} do not match the configured sha256: run "
                f"`invigilator models pull {spec}` to replace them"
            )
        return state.path
    path = Path(spec).expanduser()
    if not path.is_absolute():
        path = folder / path
    if not path.is_file():
        known = ", ".join(sorted(config.registry)) or "none"
        raise WeightsMissing(
            f"weights {spec!r} not found ({path}): name a model of [models.registry] (known: "
            f"{known}) or an existing weights file"
        )
    return path
