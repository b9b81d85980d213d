"""The embedded blob store: files under one folder, served by the app through signed URLs.

Layout: the key ``a/b.jpg`` is stored as ``<root>/a/b.jpg~blob`` with its content type in
``<root>/a/b.jpg~meta``. The ``~`` suffix cannot occur in a key, so the keys ``a`` and ``a/b``
can coexist (a file and a folder never share a name) and temporary and metadata files can never
be mistaken for blobs. Writes go to a temporary file that is renamed into place, so a reader sees
the old blob or the new one, never half of one.
"""

from __future__ import annotations

import asyncio
import builtins
import errno
import json
import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.errors import InvalidInput, NotFound, Unavailable
from core.ports import BlobInfo
from storage.blobs import signing
from storage.blobs.keys import validate_key, validate_prefix

BLOB_SUFFIX = "~blob"
META_SUFFIX = "~meta"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def parse_file_url(url: str) -> Path:
    """``file:///absolute/path`` (or ``file://relative/path``) to a Path."""
    if not url.startswith("file://"):
        raise InvalidInput(f"blob URL must start with file://, got {url!r}")
    path = url[len("file://") :].split("?", 1)[0]
    if not path:
        raise InvalidInput("blob URL file:// names no folder")
    return Path(path)


class LocalBlobStore:
    """Blobs as files under ``root``; ``public_url`` is the app's external base URL."""

    name = "blobs"

    def __init__(self, root: Path, secret: bytes, public_url: str) -> None:
        self.root = Path(root)
        self._secret = secret
        self.public_url = public_url.rstrip("/")
        self._real_root: Path | None = None

    async def open(self) -> None:
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise Unavailable(f"blobs: cannot create folder {self.root}: {error}") from error
        self._real_root = self.root.resolve()

    async def ping(self) -> None:
        await asyncio.to_thread(self._ping)

    def _ping(self) -> None:
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            raise Unavailable(f"blobs: folder {self.root} is missing or not writable")

    async def close(self) -> None:
        """Nothing to release: every operation opens and closes its own files."""

    # Paths -------------------------------------------------------------------------------

    def _base(self) -> Path:
        if self._real_root is None:
            self._open()
        assert self._real_root is not None
        return self._real_root

    def _inside(self, path: Path) -> Path:
        """``path`` with symlinks resolved, provided it stays under the root."""
        base = self._base()
        real = path.resolve()
        if not real.is_relative_to(base):
            raise InvalidInput(f"blobs: {path} leads outside the store (symbolic link?)")
        return real

    def _paths(self, key: str) -> tuple[Path, Path]:
        """The data and metadata file for ``key``; their folder is checked to be in the root."""
        validate_key(key)
        *folders, leaf = key.split("/")
        folder = self._inside(self._base().joinpath(*folders))
        return folder / (leaf + BLOB_SUFFIX), folder / (leaf + META_SUFFIX)

    def open_path(self, key: str) -> Path:
        """The file holding ``key``'s bytes, for the route that serves a verified signed URL."""
        data, _ = self._paths(key)
        if data.is_symlink() or not data.is_file():
            raise NotFound(f"blob {key!r} does not exist")
        return data

    def verify_url(self, key: str, expires: int, signature: str, now: float | None = None) -> bool:
        """Check the ``expires`` and ``sig`` query parameters of a URL from :meth:`signed_url`."""
        now = time.time() if now is None else now
        return signing.verify(self._secret, key, expires, signature, now)

    # Operations --------------------------------------------------------------------------

    async def put(
        self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> BlobInfo:
        return await asyncio.to_thread(self._put, key, bytes(data), content_type)

    def _put(self, key: str, data: bytes, content_type: str) -> BlobInfo:
        data_path, meta_path = self._paths(key)
        meta = json.dumps({"content_type": content_type}).encode()
        # A concurrent delete may prune the folder between mkdir and the write; try again.
        for attempt in range(3):
            try:
                data_path.parent.mkdir(parents=True, exist_ok=True)
                self._inside(data_path.parent)
                # Metadata first: a reader may briefly see the new type with the old bytes,
                # never a blob without a type.
                _write_atomic(meta_path, meta, sync=False)
                _write_atomic(data_path, data, sync=True)
                break
            except FileNotFoundError as error:
                if attempt == 2:
                    raise Unavailable(f"blobs: cannot write {key!r}: {error}") from error
            except OSError as error:
                raise Unavailable(f"blobs: cannot write {key!r}: {error}") from error
        return self._info(key, data_path, meta_path)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, key)

    def _get(self, key: str) -> bytes:
        data_path, _ = self._paths(key)
        try:
            fd = os.open(data_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"blob {key!r} does not exist") from None
        except OSError as error:
            if error.errno == errno.ELOOP:  # the blob file is a symbolic link: never followed
                raise NotFound(f"blob {key!r} does not exist") from None
            raise Unavailable(f"blobs: cannot read {key!r}: {error}") from error
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    async def stat(self, key: str) -> BlobInfo:
        return await asyncio.to_thread(self._stat, key)

    def _stat(self, key: str) -> BlobInfo:
        data_path, meta_path = self._paths(key)
        return self._info(key, data_path, meta_path)

    def _info(self, key: str, data_path: Path, meta_path: Path) -> BlobInfo:
        try:
            status = data_path.lstat()
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"blob {key!r} does not exist") from None
        if not data_path.is_file() or data_path.is_symlink():
            raise NotFound(f"blob {key!r} does not exist")
        try:
            content_type = json.loads(meta_path.read_bytes())["content_type"]
        except (OSError, ValueError, KeyError, TypeError):
            content_type = DEFAULT_CONTENT_TYPE
        return BlobInfo(
            key=key,
            size=status.st_size,
            content_type=str(content_type),
            modified=datetime.fromtimestamp(status.st_mtime, UTC),
        )

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    def _delete(self, key: str) -> None:
        data_path, meta_path = self._paths(key)
        for path in (data_path, meta_path):
            path.unlink(missing_ok=True)
        # Prune folders left empty so retention runs do not leave a tree of empty folders.
        base = self._base()
        folder = data_path.parent
        while folder != base and folder.is_relative_to(base):
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent

    async def list(self, prefix: str = "") -> list[BlobInfo]:
        return await asyncio.to_thread(self._list, prefix)

    def _list(self, prefix: str) -> builtins.list[BlobInfo]:
        validate_prefix(prefix)
        base = self._base()
        # Only the folder named by the complete segments of the prefix needs walking.
        start = base.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else base
        if not start.is_dir():
            return []
        self._inside(start)
        found: builtins.list[BlobInfo] = []
        for folder, _dirs, files in os.walk(start, followlinks=False):
            for filename in files:
                if not filename.endswith(BLOB_SUFFIX):
                    continue
                path = Path(folder, filename)
                key = path.relative_to(base).as_posix()[: -len(BLOB_SUFFIX)]
                if not key.startswith(prefix) or path.is_symlink():
                    continue
                try:
                    meta = path.with_name(filename[: -len(BLOB_SUFFIX)] + META_SUFFIX)
                    found.append(self._info(key, path, meta))
                except NotFound:
                    continue  # deleted while listing
        found.sort(key=lambda info: info.key)
        return found

    async def signed_url(self, key: str, expires_in: timedelta) -> str:
        validate_key(key)
        seconds = expires_in.total_seconds()
        if seconds <= 0:
            raise InvalidInput("signed URL lifetime must be positive")
        expires_at = int(time.time() + seconds)
        signature = signing.sign(self._secret, key, expires_at)
        return f"{self.public_url}/blobs/{key}?expires={expires_at}&sig={signature}"


def _write_atomic(path: Path, data: bytes, *, sync: bool) -> None:
    """Write to a temporary sibling, then rename it over ``path`` (atomic on POSIX)."""
    temp = path.with_name(f".{path.name}~tmp-{secrets.token_hex(8)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
