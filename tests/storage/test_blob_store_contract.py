"""One contract for every blob store: a local folder (embedded) and S3 (production)."""

from __future__ import annotations

import asyncio
import os
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from core.errors import InvalidInput, NotFound, Unavailable
from core.ports import BlobStore
from core.settings import Settings
from storage.backends import open_blob_store
from storage.blobs import signing
from storage.blobs.local import LocalBlobStore
from storage.blobs.s3 import S3BlobStore, parse_s3_url

SECRET = "test-secret-key-that-is-long-enough"
BAD_KEYS = [
    "",
    "../x",
    "a/../b",
    "a/./b",
    ".",
    "/abs",
    "a//b",
    "a/",
    "a\\b",
    "a\x00b",
    "a b",
    "caf\u00e9",
    "a~blob",
    "x" * 513,
]


@pytest.fixture(params=["embedded", "production"])
def blob_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "embedded":
        return f"file://{tmp_path / 'blobs'}"
    base: str = request.getfixturevalue("s3_url")
    location = parse_s3_url(base)
    bucket = f"t-{uuid.uuid4().hex[:16]}"  # a fresh bucket per test
    return base.replace(f"/{location.bucket}?", f"/{bucket}?")


@pytest.fixture
async def store(blob_url: str, tmp_path: Path) -> AsyncIterator[BlobStore]:
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        blob_url=blob_url,
        secret_key=SECRET,
        public_url="http://testserver/",
    )
    opened = await open_blob_store(settings)
    yield opened
    await opened.close()


async def test_put_get_stat_round_trip(store: BlobStore) -> None:
    data = bytes(range(256)) * 3
    before = datetime.now(UTC) - timedelta(seconds=2)
    info = await store.put("attempts/a1/snap-001.jpg", data, "image/jpeg")
    assert (info.key, info.size, info.content_type) == (
        "attempts/a1/snap-001.jpg",
        768,
        "image/jpeg",
    )
    assert await store.get("attempts/a1/snap-001.jpg") == data
    stat = await store.stat("attempts/a1/snap-001.jpg")
    assert (stat.key, stat.size, stat.content_type) == (info.key, info.size, info.content_type)
    assert stat.modified.tzinfo is not None
    assert before <= stat.modified <= datetime.now(UTC) + timedelta(seconds=2)


async def test_default_content_type_and_empty_blob(store: BlobStore) -> None:
    info = await store.put("empty", b"")
    assert info.content_type == "application/octet-stream"
    assert await store.get("empty") == b""
    assert (await store.stat("empty")).size == 0


async def test_put_replaces_bytes_and_type(store: BlobStore) -> None:
    await store.put("code/main.py", b"print(1)", "text/x-python")
    await store.put("code/main.py", b"print(22)", "text/plain")
    assert await store.get("code/main.py") == b"print(22)"
    stat = await store.stat("code/main.py")
    assert (stat.size, stat.content_type) == (9, "text/plain")
    assert [info.key for info in await store.list()] == ["code/main.py"]


async def test_large_blob(store: BlobStore) -> None:
    data = os.urandom(6 * 1024 * 1024 + 7)  # above S3's 5 MiB multipart threshold
    await store.put("clips/big.webm", data, "video/webm")
    assert await store.get("clips/big.webm") == data


async def test_missing_blob_is_not_found(store: BlobStore) -> None:
    with pytest.raises(NotFound):
        await store.get("nope/missing.bin")
    with pytest.raises(NotFound):
        await store.stat("nope/missing.bin")


async def test_delete_is_idempotent(store: BlobStore) -> None:
    await store.put("d/x", b"1")
    await store.delete("d/x")
    await store.delete("d/x")
    await store.delete("never/existed")
    with pytest.raises(NotFound):
        await store.get("d/x")
    assert await store.list() == []


async def test_list_by_prefix_sorted(store: BlobStore) -> None:
    keys = ["b/2", "a/1", "a", "a/0/deep.txt", "ab", "snapshots/x.jpg", "snap"]
    for key in keys:
        await store.put(key, key.encode(), "text/plain")
    assert [info.key for info in await store.list()] == sorted(keys)
    assert [info.key for info in await store.list("a/")] == ["a/0/deep.txt", "a/1"]
    assert [info.key for info in await store.list("a")] == ["a", "a/0/deep.txt", "a/1", "ab"]
    assert [info.key for info in await store.list("snap")] == ["snap", "snapshots/x.jpg"]
    assert [info.key for info in await store.list("a/0/de")] == ["a/0/deep.txt"]
    assert await store.list("zzz/") == []
    [info] = await store.list("b/")
    assert (info.size, info.content_type) == (3, "text/plain")


async def test_a_key_and_keys_below_it_coexist(store: BlobStore) -> None:
    await store.put("a", b"file")
    await store.put("a/b", b"below")
    assert await store.get("a") == b"file"
    assert await store.get("a/b") == b"below"


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
async def test_invalid_keys_are_rejected(store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidInput):
        await store.put(key, b"x")
    with pytest.raises(InvalidInput):
        await store.get(key)
    with pytest.raises(InvalidInput):
        await store.stat(key)
    with pytest.raises(InvalidInput):
        await store.delete(key)
    with pytest.raises(InvalidInput):
        await store.signed_url(key, timedelta(minutes=1))


@pytest.mark.parametrize("prefix", ["../", "/a", "a//", "a/../", "a\\"])
async def test_invalid_prefixes_are_rejected(store: BlobStore, prefix: str) -> None:
    with pytest.raises(InvalidInput):
        await store.list(prefix)


async def test_signed_url_serves_the_blob(store: BlobStore) -> None:
    await store.put("s/snap.png", b"\x89PNG fake", "image/png")
    url = await store.signed_url("s/snap.png", timedelta(minutes=5))
    if isinstance(store, LocalBlobStore):
        parts = urlsplit(url)
        assert (
            f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://testserver/blobs/s/snap.png"
        )
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        expires = int(query["expires"])
        assert time.time() + 250 < expires <= time.time() + 300
        assert store.verify_url("s/snap.png", expires, query["sig"])
        assert store.open_path("s/snap.png").read_bytes() == b"\x89PNG fake"
    else:
        assert await asyncio.to_thread(fetch, url) == b"\x89PNG fake"


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


# Embedded store only: signature checks, atomic writes and the folder boundary.


async def test_local_signature_rejects_tampering_and_expiry(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, SECRET.encode(), "http://testserver")
    now = time.time()
    expires = int(now) + 60
    sig = signing.sign(SECRET.encode(), "k/1", expires)
    assert store.verify_url("k/1", expires, sig, now=now)
    assert not store.verify_url("k/2", expires, sig, now=now)
    assert not store.verify_url("k/1", expires + 1, sig, now=now)
    assert not store.verify_url("k/1", expires, sig[:-1] + ("0" if sig[-1] != "0" else "1"), now)
    assert not store.verify_url("k/1", expires, "", now=now)
    assert not store.verify_url("k/1", expires, sig, now=expires)
    other = LocalBlobStore(tmp_path, b"another secret", "http://testserver")
    assert not other.verify_url("k/1", expires, sig, now=now)
    with pytest.raises(InvalidInput):
        await store.signed_url("k/1", timedelta(0))


async def test_local_writes_leave_only_blob_and_metadata_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, b"s", "http://testserver")
    await asyncio.gather(*(store.put("x/same", bytes([n]) * 10_000) for n in range(20)))
    content = await store.get("x/same")
    assert len(set(content)) == 1  # one whole write won, never a mix
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["same~blob", "same~meta"]
    await store.delete("x/same")
    assert not (tmp_path / "x").exists()  # emptied folders are pruned


async def test_local_never_follows_symlinks_out_of_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret~blob").write_bytes(b"do not serve")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "file~blob").symlink_to(outside / "secret~blob")
    store = LocalBlobStore(root, b"s", "http://testserver")
    with pytest.raises(InvalidInput):
        await store.get("link/secret")
    with pytest.raises(InvalidInput):
        await store.put("link/new", b"x")
    assert not (outside / "new~blob").exists()
    with pytest.raises(NotFound):
        await store.get("file")  # a symlinked blob file is not followed either
    with pytest.raises(NotFound):
        store.open_path("file")
    assert await store.list() == []


async def test_local_ping_reports_a_missing_folder(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs", b"s", "http://testserver")
    await store.open()
    await store.ping()
    (tmp_path / "blobs").rmdir()
    (tmp_path / "blobs").write_bytes(b"not a folder")
    with pytest.raises(Unavailable):
        await store.ping()


async def test_s3_ping_on_closed_port_is_unavailable() -> None:
    store = S3BlobStore.from_url("s3://k:s@127.0.0.1:1/bucket?secure=false")
    try:
        with pytest.raises(Unavailable, match="unreachable"):
            await store.ping()
        with pytest.raises(Unavailable):
            await store.put("k", b"x")
    finally:
        await store.close()
        await store.close()


@pytest.mark.parametrize(
    "url",
    ["s3://k:s@host/", "s3://k:s@/bucket", "s3://k:s@host/b/c", "s3://k:s@h/b?secure=maybe"],
)
def test_s3_url_errors(url: str) -> None:
    with pytest.raises(InvalidInput):
        parse_s3_url(url)


def test_s3_url_parsing() -> None:
    location = parse_s3_url("s3://AK%2F1:SK%40x@minio:9000/media?secure=false&region=eu-west-1")
    assert location.endpoint == "minio:9000"
    assert (location.access_key, location.secret_key) == ("AK/1", "SK@x")
    assert (location.bucket, location.secure, location.region) == ("media", False, "eu-west-1")
    assert parse_s3_url("s3://a:b@s3.amazonaws.com/x").secure is True
