"""Receipts and results: starting and submitting an exam, and releasing its results, reach the
candidate; releasing twice sends once."""

from __future__ import annotations

from core.services import Services
from storage.tables.user import User
from tests.exams.support import (
    Client,
    add_question,
    create_exam,
    fixed,
    headers,
    start,
    submit,
)
from tests.notify.support import messages, settled


async def test_receipts_and_results_reach_the_candidate(
    client: Client, services: Services, examiner: User, candidates: list[User]
) -> None:
    me, other = candidates[0], candidates[1]
    question = await add_question(services, "single_choice")
    exam = await create_exam(client, examiner, sections=[fixed(question)], candidates=[me, other])
    attempt = await start(client, me, exam["id"])
    [started] = await settled(services, event="attempt.started")
    assert started.channel == "inapp"
    assert started.user_id == me.id
    assert started.subject == "You started Algebra midterm"
    page = await client.get(
        f"/exams/attempt/{attempt['id']}", headers={**headers(me), "Accept": "text/html"}
    )
    assert page.status == 200
    assert "data-notify-bell" not in await page.text()  # the exam page stays calm

    await submit(client, me, attempt["id"])
    receipts = await settled(services, expect=2, event="attempt.submitted")
    assert {r.channel for r in receipts} == {"email", "inapp"}
    assert all(r.user_id == me.id and attempt["id"] in r.body_text for r in receipts)
    # No SMTP server configured (the default): the mail is kept in the blob store mailbox.
    [mail] = [r for r in receipts if r.channel == "email"]
    assert mail.status == "sent"
    assert mail.provider_id.startswith("blob:mailbox/")
    kept = await services.blobs.get(mail.provider_id.removeprefix("blob:"))
    assert b"Subject: Received: Algebra midterm" in kept

    for _ in range(2):
        response = await client.post(
            f"/api/v1/exams/{exam['id']}/release", headers=headers(examiner)
        )
        assert response.status == 200
    released = await settled(services, expect=2, event="results.released")
    assert len(released) == 2  # once, and only to the candidate who sat the exam
    assert {r.user_id for r in released} == {me.id}
    assert all(r.subject == "Results released: Algebra midterm" for r in released)
    assert len(await messages(services, event="exam.scheduled")) == 4  # two candidates
