"""Reference solutions run in the real judge (the built-in ``judge`` plugin's local sandbox):
a program that passes its problem's tests is offered, one that does not is reported."""

from __future__ import annotations

import shutil

import pytest

from storage.tables.user import User
from tests.exams.support import Client
from tests.generation.conftest import GENERATORS, as_user, drafts_of, finished_job

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is missing")


@pytest.fixture
def disabled_plugins() -> tuple[str, ...]:
    return ()


@pytest.fixture
def extra_plugins() -> tuple[str, ...]:
    return (GENERATORS,)


@pytest.fixture
def generation_config() -> str:
    return 'backend = "real-references"\n'


async def test_the_real_judge_runs_each_reference_against_its_tests(
    client: Client, examiner: User
) -> None:
    response = await client.post(
        "/api/v1/generation/jobs",
        json={"source_kind": "topic", "text": "Reading input", "counts": {"coding": 2}},
        headers=as_user(examiner),
    )
    assert response.status == 202, await response.text()
    job = await finished_job(client, examiner, (await response.json())["id"])
    assert (job["done"], job["failed"]) == (2, 1)
    assert job["errors"][0]["number"] == 2
    assert "passes only 0% of its own tests" in job["errors"][0]["message"]
    [draft] = await drafts_of(client, examiner, job["id"])
    assert draft["reference_status"] == "passed"
    assert "print(a + b)" in draft["reference"]["code"]
