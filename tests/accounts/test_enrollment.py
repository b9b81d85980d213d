"""Face enrollment: consent first, strict image intake, withdrawal and retention clean-up."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from core.channels import ENROLLMENT_ADDED
from storage.tables.user import Role, User
from tests.accounts.admin_support import (
    audit_rows,
    consent,
    face,
    latest_enrollment,
    snapshot,
    update_enrollment,
    with_gps_exif,
)
from tests.accounts.conftest import ActAs, Client, MakeUser
from webapp.keys import SERVICES

LIMIT = 1_000_000
VERSION = "2027-01"
JPEG = {"Content-Type": "image/jpeg"}
PNG = {"Content-Type": "image/png"}


@pytest.fixture
def accounts_config() -> str:
    return (
        f'max_enrollment_photo_bytes = {LIMIT}\nconsent_text_version = "{VERSION}"\n'
        "enrollment_retention_days = 30\n"
        # These tests count every blob; the identity plugin's embeddings are tested on their own.
        "\n[detector_identity]\nenabled = false\n"
    )


@pytest.fixture
async def candidate(make_user: MakeUser, act_as: ActAs) -> User:
    user = await make_user(Role.CANDIDATE)
    act_as.user(user)
    return user


async def test_consent_is_recorded_with_time_address_version_and_retention(
    client: Client, candidate: User
) -> None:
    assert await (await client.get("/api/v1/me/enrollment")).json() == {
        "status": "none",
        "enrollment_id": None,
        "consent_given_at": None,
        "consent_text_version": None,
        "retention_until": None,
        "has_photo": False,
        "has_embedding": False,
        "embedding_model": None,
    }
    before = await snapshot(client.app[SERVICES])
    for body, status in [
        ({"consent": True, "text_version": "2026-11"}, 409),
        ({"consent": False, "text_version": VERSION}, 422),
        ({"consent": "yes", "text_version": VERSION}, 422),
        ({"text_version": VERSION}, 422),
        ({"consent": True, "text_version": "v" * 33}, 422),
    ]:
        response = await client.post("/api/v1/me/enrollment/consent", json=body)
        assert response.status == status, body
    outdated = await client.post(
        "/api/v1/me/enrollment/consent", json={"consent": True, "text_version": "2026-11"}
    )
    error = (await outdated.json())["error"]
    assert (error["code"], error["details"]) == (
        "consent_text_outdated",
        {"current_version": VERSION},
    )
    assert await snapshot(client.app[SERVICES]) == before

    started = datetime.now(UTC)
    body = await consent(client, VERSION)
    assert body["status"] == "consented"
    assert body["consent_text_version"] == VERSION
    given = datetime.fromisoformat(body["consent_given_at"])
    assert started - timedelta(seconds=1) <= given <= datetime.now(UTC)
    assert datetime.fromisoformat(body["retention_until"]) == given + timedelta(days=30)
    row = await latest_enrollment(client, candidate.id)
    assert row.consent_ip == "127.0.0.1"
    [event] = await audit_rows(client.app[SERVICES], "enrollment.consented")
    assert (event.user_id, event.ip, event.details["text_version"]) == (
        candidate.id,
        "127.0.0.1",
        VERSION,
    )


async def test_photo_needs_consent(client: Client, candidate: User) -> None:
    before = await snapshot(client.app[SERVICES])
    response = await client.put("/api/v1/me/enrollment/photo", data=face(), headers=JPEG)
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "consent_required"
    assert await snapshot(client.app[SERVICES]) == before


async def test_photo_is_reencoded_without_metadata_and_announced(
    client: Client, candidate: User
) -> None:
    services = client.app[SERVICES]
    await consent(client, VERSION)
    # A JPEG followed by an HTML payload decodes fine; the payload must not survive.
    original = with_gps_exif() + b"<html><script>alert(document.cookie)</script></html>"
    async with services.bus.subscribe(ENROLLMENT_ADDED) as messages:
        response = await client.put("/api/v1/me/enrollment/photo", data=original, headers=JPEG)
        assert response.status == 200, await response.text()
        message = json.loads(await asyncio.wait_for(anext(messages), 2))
    body = await response.json()
    assert (body["status"], body["has_photo"], body["has_embedding"]) == ("active", True, False)

    row = await latest_enrollment(client, candidate.id)
    assert row.blob_key is not None
    assert re.fullmatch(rf"enrollment/{candidate.id}/[0-9a-f]{{32}}\.jpg", row.blob_key)
    assert message == {
        "user_id": str(candidate.id),
        "enrollment_id": str(row.id),
        "blob_key": row.blob_key,
    }
    stored = await services.blobs.get(row.blob_key)
    assert stored != original
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert image.size == (512, 512)
    assert dict(image.getexif()) == {}
    assert b"Exif" not in stored
    assert b"Secret Camera Model" not in stored
    assert b"<script" not in stored

    served = await client.get("/api/v1/me/enrollment/photo")
    assert served.status == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["Cache-Control"] == "no-store"
    assert await served.read() == stored
    [event] = await audit_rows(services, "enrollment.photo_added")
    assert event.details == {"enrollment_id": row.id, "replaced": False}


async def test_png_is_accepted_and_replacing_deletes_the_old_blobs(
    client: Client, candidate: User
) -> None:
    services = client.app[SERVICES]
    await consent(client, VERSION)
    await client.put("/api/v1/me/enrollment/photo", data=face(), headers=JPEG)
    first = await latest_enrollment(client, candidate.id)
    assert first.blob_key is not None
    # The identity detector has computed an embedding for the first photo.
    embedding_key = f"embeddings/{candidate.id}/vector.bin"
    await services.blobs.put(embedding_key, b"\x00" * 512)
    await update_enrollment(
        client, first.id, embedding_ref=embedding_key, embedding_model="arcface"
    )
    assert (await (await client.get("/api/v1/me/enrollment")).json())["has_embedding"]

    response = await client.put("/api/v1/me/enrollment/photo", data=face("PNG", 200), headers=PNG)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["has_photo"], body["has_embedding"], body["embedding_model"]) == (
        True,
        False,
        None,
    )
    second = await latest_enrollment(client, candidate.id)
    assert second.id == first.id
    assert second.blob_key != first.blob_key
    keys = [info.key for info in await services.blobs.list("")]
    assert keys == [second.blob_key]
    assert Image.open(io.BytesIO(await services.blobs.get(second.blob_key or ""))).format == "JPEG"


def _truncated_jpeg() -> bytes:
    data = face()
    return data[: len(data) // 2]


def _polyglot() -> bytes:
    return b"<html><body><script>alert(document.cookie)</script></body></html>\n" + face()


@pytest.mark.parametrize(
    ("data", "headers", "status", "code"),
    [
        (os.urandom(50_000), JPEG, 422, "invalid_image"),
        (_truncated_jpeg(), JPEG, 422, "invalid_image"),
        (face("PNG", 10), PNG, 422, "invalid_image"),
        (face("JPEG", 159), JPEG, 422, "invalid_image"),
        (_polyglot(), JPEG, 422, "invalid_image"),
        (b"<!doctype html><p>hi</p>", JPEG, 422, "invalid_image"),
        (face("PNG", 200), JPEG, 422, "invalid_image"),  # content does not match the type
        (b"", JPEG, 422, "invalid_image"),
        (face("GIF"), {"Content-Type": "image/gif"}, 415, "unsupported_media_type"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            {"Content-Type": "image/svg+xml"},
            415,
            "unsupported_media_type",
        ),
        (face(), {"Content-Type": "text/html"}, 415, "unsupported_media_type"),
        (b"\xff\xd8" + b"\0" * LIMIT, JPEG, 413, "payload_too_large"),
    ],
)
async def test_bad_uploads_are_refused_and_nothing_is_stored(
    client: Client,
    candidate: User,
    data: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    await consent(client, VERSION)
    before = await snapshot(client.app[SERVICES])
    response = await client.put("/api/v1/me/enrollment/photo", data=data, headers=headers)
    assert response.status == status, await response.text()
    assert (await response.json())["error"]["code"] == code
    assert await snapshot(client.app[SERVICES]) == before


async def test_a_pixel_bomb_is_refused_before_decoding(client: Client, candidate: User) -> None:
    await consent(client, VERSION)
    bomb = io.BytesIO()
    Image.new("L", (9000, 9000)).save(bomb, "PNG", optimize=True)  # 81 MP in ~80 KB
    assert len(bomb.getvalue()) < LIMIT
    response = await client.put("/api/v1/me/enrollment/photo", data=bomb.getvalue(), headers=PNG)
    assert response.status == 422
    assert "pixels" in (await response.json())["error"]["message"]


async def test_withdraw_deletes_photo_and_embedding(client: Client, candidate: User) -> None:
    services = client.app[SERVICES]
    await consent(client, VERSION)
    await client.put("/api/v1/me/enrollment/photo", data=face(), headers=JPEG)
    row = await latest_enrollment(client, candidate.id)
    await services.blobs.put("embeddings/x.bin", b"1")
    await update_enrollment(client, row.id, embedding_ref="embeddings/x.bin")

    response = await client.delete("/api/v1/me/enrollment")
    assert response.status == 204
    assert await services.blobs.list("") == []
    body = await (await client.get("/api/v1/me/enrollment")).json()
    assert (body["status"], body["has_photo"], body["has_embedding"]) == ("withdrawn", False, False)
    assert (await client.get("/api/v1/me/enrollment/photo")).status == 404
    assert (await client.delete("/api/v1/me/enrollment")).status == 204  # idempotent
    [event] = await audit_rows(services, "enrollment.withdrawn")
    assert event.details == {"enrollment_id": row.id, "had_photo": True}
    photo = await client.put("/api/v1/me/enrollment/photo", data=face(), headers=JPEG)
    assert photo.status == 409  # withdrawn: consent again first
    again = await consent(client, VERSION)
    assert again["enrollment_id"] != row.id


async def test_admin_reads_a_users_enrollment(
    client: Client, candidate: User, act_as: ActAs, make_user: MakeUser
) -> None:
    await consent(client, VERSION)
    act_as.user(await make_user(Role.ADMIN))
    response = await client.get(f"/api/v1/users/{candidate.id}/enrollment")
    assert (await response.json())["status"] == "consented"
    assert (await client.get("/api/v1/users/999999/enrollment")).status == 404
    assert (await client.get("/api/v1/users/x/enrollment")).status == 404
    other = await make_user(Role.CANDIDATE)
    assert (await (await client.get(f"/api/v1/users/{other.id}/enrollment")).json())[
        "status"
    ] == "none"


async def test_only_candidates_enroll(client: Client, act_as: ActAs, make_user: MakeUser) -> None:
    act_as.user(await make_user(Role.PROCTOR))
    before = await snapshot(client.app[SERVICES])
    for response in [
        await client.get("/api/v1/me/enrollment"),
        await client.post(
            "/api/v1/me/enrollment/consent", json={"consent": True, "text_version": VERSION}
        ),
        await client.put("/api/v1/me/enrollment/photo", data=face(), headers=JPEG),
        await client.delete("/api/v1/me/enrollment"),
    ]:
        assert response.status == 403
    assert await snapshot(client.app[SERVICES]) == before
