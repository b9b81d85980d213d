"""The consent a candidate gives before a proctored exam: the text, its version, the stored row.

The text is versioned because a consent is only worth the words it was given to: a row names
the version it agreed to, and when the words change (a new version here) earlier consents no
longer count, so every candidate reads and accepts the new text once. The text is plain
paragraphs (one bullet per line after the first) so the API and the page show the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.policy import ProctoringPolicy
from plugins.proctoring.tables import ProctoringConsent, utcnow

CONSENT_VERSION = "2026-11"
"""Raise this whenever :data:`CONSENT_TEXT` changes in substance."""

CONSENT_TEXT = """\
This exam is proctored live. While the exam page is open, this browser sends your camera, \
your microphone and some events of this window to your institution's exam server.
What is sent: the video from your camera and the sound from your microphone, and these events: \
leaving the exam tab or window, leaving full screen, copying or pasting, reloading the page, and \
how many screens are connected.
What is kept: a still picture from your camera every {snapshot_interval_s} seconds and whenever \
a possible rule break is detected, the events above, and what the automatic checks noticed (for \
example "no face visible"). The video and sound themselves are not recorded.
Who sees it: the proctors and examiners of this exam, who may also watch your camera live, and \
the server's administrators. Automatic checks only point moments out to a person; they decide \
nothing on their own.
How long it is kept: as long as your institution's rules for exam records say. It stays on your \
institution's server and is not sent to anyone else.
How to withdraw: do not start the exam. Before you start, only the system check uses your \
camera and microphone, to test them, and nothing from it is kept. If you do not agree, ask your \
examiner about other arrangements."""


def consent_text(policy: ProctoringPolicy) -> str:
    """The consent text with this exam's numbers filled in."""
    return CONSENT_TEXT.format(snapshot_interval_s=f"{policy.snapshot_interval_s:g}")


def policy_of(raw: Mapping[str, Any] | None) -> ProctoringPolicy:
    """An exam's policy; one that no longer validates still counts as enabled if it says so,
    so a malformed policy can never switch consent off."""
    try:
        return ProctoringPolicy.of(raw)
    except ValidationError:
        return ProctoringPolicy(enabled=bool((raw or {}).get("enabled")))


async def current_consent(db: AsyncSession, exam_id: int, user_id: int) -> ProctoringConsent | None:
    """The candidate's consent row for the exam, whatever text version it names."""
    rows = await db.execute(
        select(ProctoringConsent).where(
            col(ProctoringConsent.exam_id) == exam_id, col(ProctoringConsent.user_id) == user_id
        )
    )
    return rows.scalars().first()


async def has_consented(db: AsyncSession, exam_id: int, user_id: int) -> bool:
    """Whether the candidate agreed to the current text for this exam."""
    row = await current_consent(db, exam_id, user_id)
    return row is not None and row.text_version == CONSENT_VERSION


async def record_consent(db: AsyncSession, exam_id: int, user_id: int, ip: str) -> None:
    """Store consent to the current text; agreeing again to the same text changes nothing."""
    row = await current_consent(db, exam_id, user_id)
    if row is not None and row.text_version == CONSENT_VERSION:
        return
    if row is None:
        db.add(
            ProctoringConsent(
                exam_id=exam_id, user_id=user_id, text_version=CONSENT_VERSION, ip=ip[:45]
            )
        )
    else:  # agreed to an older text: the newest agreement replaces it
        row.text_version = CONSENT_VERSION
        row.ip = ip[:45]
        row.consented_at = utcnow()
    try:
        await db.commit()
    except IntegrityError:  # a second tab recorded it first: the same outcome
        await db.rollback()
