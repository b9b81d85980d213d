"""Helpers for the admin and enrollment API tests: store snapshots, test images, audit rows."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from skimage import data as sample_images
from sqlalchemy import select
from sqlmodel import col

from core.services import Services
from plugins.accounts.tables import (
    ApiClient,
    AuthSession,
    FaceEnrollment,
    PasswordResetToken,
    SecurityEvent,
)
from storage.tables.user import User
from tests.accounts.conftest import Client
from webapp.keys import SERVICES

TABLES: tuple[type[Any], ...] = (
    User,
    SecurityEvent,
    PasswordResetToken,
    ApiClient,
    AuthSession,
    FaceEnrollment,
)


async def snapshot(services: Services) -> dict[str, Any]:
    """Every row of the accounts tables and every blob key with its size: two equal snapshots
    mean a request wrote nothing anywhere."""
    state: dict[str, Any] = {}
    async with services.db.session() as db:
        for table in TABLES:
            rows = await db.execute(select(table.__table__).order_by(col(table.id)))
            state[table.__tablename__] = [tuple(row) for row in rows]
    state["blobs"] = [(info.key, info.size) for info in await services.blobs.list("")]
    return state


async def audit_rows(services: Services, kind: str | None = None) -> list[SecurityEvent]:
    query = select(SecurityEvent).order_by(col(SecurityEvent.id))
    if kind is not None:
        query = query.where(col(SecurityEvent.kind) == kind)
    async with services.db.session() as db:
        return list((await db.execute(query)).scalars())


async def consent(client: Client, version: str) -> dict[str, Any]:
    """Consent to enrollment as the current caller, through the API."""
    response = await client.post(
        "/api/v1/me/enrollment/consent", json={"consent": True, "text_version": version}
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def latest_enrollment(client: Client, user_id: int | None) -> FaceEnrollment | None:
    query = select(FaceEnrollment).where(col(FaceEnrollment.user_id) == user_id)
    async with client.app[SERVICES].db.session() as db:
        rows = await db.execute(query.order_by(col(FaceEnrollment.id).desc()))
        return rows.scalars().first()


async def update_enrollment(client: Client, enrollment_id: int | None, **values: Any) -> None:
    """Change a stored enrollment directly, as the identity detector or time would."""
    async with client.app[SERVICES].db.session() as db:
        row = await db.get(FaceEnrollment, enrollment_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        await db.commit()


def face(fmt: str = "JPEG", size: int | None = None, **save: Any) -> bytes:
    """A real photo of a face (scikit-image's astronaut), encoded as ``fmt``."""
    image = Image.fromarray(sample_images.astronaut())
    if size is not None:
        image = image.resize((size, size))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def with_gps_exif() -> bytes:
    """A JPEG face carrying GPS coordinates and a camera model in its EXIF."""
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera Model"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 29.0)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "E", (2.0, 17.0, 40.0)  # GPSLongitudeRef, GPSLongitude
    return face("JPEG", exif=exif.tobytes())
