"""Enrollment retention: expired enrollments and orphaned photos are deleted by the clean-up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from plugins.accounts import enrollment_api, enrollment_store
from storage.tables.user import Role, User
from tests.accounts.admin_support import (
    audit_rows,
    consent,
    face,
    latest_enrollment,
    update_enrollment,
)
from tests.accounts.conftest import ActAs, Client, MakeUser
from webapp.keys import SERVICES

VERSION = "2027-01"
JPEG = {"Content-Type": "image/jpeg"}


@pytest.fixture
def accounts_config() -> str:
    # These tests count every blob; the identity plugin's embeddings are tested on their own.
    return f'consent_text_version = "{VERSION}"\n\n[detector_identity]\nenabled = false\n'


@pytest.fixture
async def candidate(make_user: MakeUser, act_as: ActAs) -> User:
    user = await make_user(Role.CANDIDATE)
    act_as.user(user)
    return user


async def test_purge_expired_deletes_rows_blobs_and_orphans(
    client: Client, candidate: User, make_user: MakeUser, act_as: ActAs
) -> None:
    services = client.app[SERVICES]
    await consent(client, VERSION)
    await client.put("/api/v1/me/enrollment/photo", data=face(), headers=JPEG)
    keeper = await make_user(Role.CANDIDATE)
    act_as.user(keeper)
    await consent(client, VERSION)
    await client.put("/api/v1/me/enrollment/photo", data=face(), headers=JPEG)
    kept = await latest_enrollment(client, keeper.id)
    assert kept is not None
    orphan = f"enrollment/{keeper.id}/{'a' * 32}.jpg"
    await services.blobs.put(orphan, b"left by a crash")
    foreign = f"enrollment/{keeper.id}/notes.txt"  # not a photo key: never touched
    await services.blobs.put(foreign, b"x")

    expired = await latest_enrollment(client, candidate.id)
    assert expired is not None
    await update_enrollment(
        client, expired.id, retention_until=datetime.now(UTC) - timedelta(seconds=1)
    )

    assert await enrollment_api.purge_expired(services, datetime.now(UTC)) == 1
    keys = {info.key for info in await services.blobs.list("")}
    assert keys == {kept.blob_key, orphan, foreign}  # the orphan is too recent to be sure
    assert await latest_enrollment(client, candidate.id) is None
    [event] = await audit_rows(services, "enrollment.expired")
    assert (event.user_id, event.details["enrollment_id"]) == (candidate.id, expired.id)

    later = datetime.now(UTC) + timedelta(hours=2)
    assert await enrollment_api.purge_expired(services, later) == 0
    assert {info.key for info in await services.blobs.list("")} == {kept.blob_key, foreign}


async def test_retention_task_runs_and_stops(client: Client, candidate: User) -> None:
    services = client.app[SERVICES]
    await consent(client, VERSION)
    row = await latest_enrollment(client, candidate.id)
    assert row is not None
    await update_enrollment(client, row.id, retention_until=datetime.now(UTC) - timedelta(days=1))
    # The plugin started the task with the app; its first round already ran (nothing was
    # expired then). Restart it with this hour's slot free again.
    assert enrollment_store._task is not None
    assert not enrollment_store._task.done()
    await enrollment_api.stop_retention_task()
    slot = int(datetime.now(UTC).timestamp() // enrollment_store.PURGE_INTERVAL.total_seconds())
    await services.cache.delete(f"accounts:enrollment-purge:{slot}")
    await enrollment_api.start_retention_task(services)
    try:
        for _ in range(100):
            if await latest_enrollment(client, candidate.id) is None:
                break
            await asyncio.sleep(0.02)
        assert await latest_enrollment(client, candidate.id) is None
    finally:
        await enrollment_api.stop_retention_task()
    await enrollment_api.stop_retention_task()  # a second stop is harmless
