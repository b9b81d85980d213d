"""The production blob store: S3 or any S3-compatible server (MinIO), through the minio SDK.

The SDK is synchronous, so every call runs in a worker thread (``asyncio.to_thread``) to keep the
event loop free. Its HTTP client gets short timeouts and few retries: a blob write that cannot
reach the server should fail fast and be retried from the outbox, not hold a request for minutes.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from core.errors import InvalidInput, NotFound, Unavailable
from core.ports import BlobInfo
from storage.blobs.keys import validate_key, validate_prefix

T = TypeVar("T")

DEFAULT_CONTENT_TYPE = "application/octet-stream"
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})
MAX_PRESIGN = timedelta(days=7)  # the S3 signature v4 limit
STAT_CONCURRENCY = 8


@dataclass(frozen=True)
class S3Location:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    secure: bool = True
    region: str = "us-east-1"


def parse_s3_url(url: str) -> S3Location:
    """``s3://ACCESS:SECRET@host:port/bucket?secure=false&region=us-east-1``."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise InvalidInput(f"blob URL must start with s3://, got scheme {parts.scheme!r}")
    bucket = parts.path.strip("/")
    if not parts.hostname or not bucket or "/" in bucket:
        raise InvalidInput("blob URL must look like s3://ACCESS:SECRET@host:port/bucket")
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    secure = query.get("secure", "true").lower()
    if secure not in ("true", "false", "1", "0"):
        raise InvalidInput(f"blob URL: secure must be true or false, got {secure!r}")
    endpoint = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return S3Location(
        endpoint=endpoint,
        access_key=unquote(parts.username or ""),
        secret_key=unquote(parts.password or ""),
        bucket=bucket,
        secure=secure in ("true", "1"),
        region=query.get("region", "us-east-1"),
    )


class S3BlobStore:
    """Blobs as objects in one bucket. Call :meth:`open` to create the bucket if it is missing."""

    name = "blobs"

    def __init__(self, location: S3Location, *, timeout: float = 10.0) -> None:
        self.location = location
        http = urllib3.PoolManager(
            maxsize=16,
            timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout),
            retries=urllib3.Retry(
                total=2, backoff_factor=0.1, status_forcelist=(500, 502, 503, 504)
            ),
        )
        self._http: urllib3.PoolManager | None = http
        self._bucket_ready = False
        self._client = Minio(
            location.endpoint,
            access_key=location.access_key,
            secret_key=location.secret_key,
            secure=location.secure,
            region=location.region,  # known region: presigning needs no network round trip
            http_client=http,
        )

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        return cls(parse_s3_url(url))

    @property
    def bucket(self) -> str:
        return self.location.bucket

    async def _run(self, action: str, function: Callable[[], T]) -> T:
        """Run a blocking SDK call in a thread and translate its errors into ours."""
        if self._http is None:
            raise Unavailable("blobs: closed")
        try:
            return await asyncio.to_thread(function)
        except S3Error as error:
            if error.code in MISSING_CODES:
                raise NotFound(f"blob {action}: {error.object_name!r} does not exist") from None
            raise Unavailable(f"blobs: {action} failed: {error.code}: {error.message}") from error
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as error:
            where = self.location.endpoint
            raise Unavailable(
                f"blobs: S3 at {where} unreachable during {action}: {error}"
            ) from error

    async def open(self) -> None:
        def ensure_bucket() -> None:
            if self._client.bucket_exists(self.bucket):
                return
            try:
                self._client.make_bucket(self.bucket, location=self.location.region)
            except S3Error as error:
                if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

        await self._run("bucket creation", ensure_bucket)
        self._bucket_ready = True

    async def ping(self) -> None:
        if not self._bucket_ready:  # the server was down at start-up: finish setting up now
            await self.open()
        exists = await self._run("ping", lambda: self._client.bucket_exists(self.bucket))
        if not exists:
            raise Unavailable(f"blobs: bucket {self.bucket!r} does not exist")

    async def close(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            http.clear()

    async def put(
        self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> BlobInfo:
        validate_key(key)
        payload = bytes(data)
        await self._run(
            f"put {key!r}",
            lambda: self._client.put_object(
                self.bucket, key, io.BytesIO(payload), len(payload), content_type=content_type
            ),
        )
        # The write response carries no Last-Modified; the local clock is within a second of it
        # and saves a HEAD request per write.
        return BlobInfo(key, len(payload), content_type, datetime.now(UTC))

    async def get(self, key: str) -> bytes:
        validate_key(key)

        def read() -> bytes:
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return await self._run(f"get {key!r}", read)

    async def stat(self, key: str) -> BlobInfo:
        validate_key(key)
        found = await self._run(f"stat {key!r}", lambda: self._client.stat_object(self.bucket, key))
        return BlobInfo(
            key=key,
            size=found.size or 0,
            content_type=found.content_type or DEFAULT_CONTENT_TYPE,
            modified=_utc(found.last_modified),
        )

    async def delete(self, key: str) -> None:
        validate_key(key)
        await self._run(f"delete {key!r}", lambda: self._client.remove_object(self.bucket, key))

    async def list(self, prefix: str = "") -> list[BlobInfo]:
        validate_prefix(prefix)
        names = await self._run(
            "list",
            lambda: [
                item.object_name
                for item in self._client.list_objects(
                    self.bucket, prefix=prefix or None, recursive=True
                )
                if item.object_name is not None and not item.is_dir
            ],
        )
        # Listings carry no content type, so each object needs a HEAD; a few run at once.
        limit = asyncio.Semaphore(STAT_CONCURRENCY)

        async def stat_or_none(name: str) -> BlobInfo | None:
            async with limit:
                try:
                    return await self.stat(name)
                except (NotFound, InvalidInput):
                    return None  # deleted meanwhile, or a foreign object with an odd name

        infos = await asyncio.gather(*(stat_or_none(name) for name in names))
        return sorted((info for info in infos if info is not None), key=lambda i: i.key)

    async def signed_url(self, key: str, expires_in: timedelta) -> str:
        validate_key(key)
        if not timedelta(seconds=1) <= expires_in <= MAX_PRESIGN:
            raise InvalidInput("signed URL lifetime must be between 1 second and 7 days")
        return await self._run(
            f"sign {key!r}",
            lambda: self._client.presigned_get_object(self.bucket, key, expires=expires_in),
        )


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
