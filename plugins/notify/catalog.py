"""Which events become which messages: category, default channels, and what may be opted out.

A category groups events for preferences ("reminders", "alerts"...). Security mail (account
created, password changed) and receipts are transactional: the law and common sense let a
person turn off reminders and digests, not the mail that tells them their password changed or
that their exam was received. For those categories email cannot be switched off; the other
channels can.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    event: str
    category: str
    channels: tuple[str, ...]
    label: str


CATEGORIES: dict[str, tuple[str, bool]] = {
    # name: (label, transactional)
    "security": ("Account and security", True),
    "receipts": ("Exam receipts", True),
    "exams": ("Exam schedule and results", False),
    "reminders": ("Reminders before an exam", False),
    "alerts": ("Violation alerts (proctors)", False),
    "support": ("Support tickets", True),
}

KINDS: dict[str, Kind] = {
    k.event: k
    for k in (
        Kind("account.created", "security", ("email",), "Account created"),
        Kind("account.password_reset", "security", ("email",), "Password changed"),
        Kind("exam.scheduled", "exams", ("email", "inapp"), "Exam scheduled"),
        Kind("exam.reminder", "reminders", ("email", "sms", "inapp"), "Exam reminder"),
        Kind("attempt.started", "receipts", ("inapp",), "Exam started"),
        Kind("attempt.submitted", "receipts", ("email", "inapp"), "Exam submitted"),
        Kind("results.released", "exams", ("email", "inapp"), "Results released"),
        Kind("violation.raised", "alerts", ("inapp", "email"), "Violation alert"),
        Kind("violation.digest", "alerts", ("inapp", "email"), "Violation digest"),
        Kind("ticket.created", "support", ("email", "inapp"), "Support ticket opened"),
        Kind("ticket.replied", "support", ("email", "inapp"), "Support ticket answered"),
    )
}

MANDATORY_CHANNEL = "email"


def can_opt_out(category: str, channel: str) -> bool:
    """Whether a person may switch ``channel`` off for ``category``."""
    _label, transactional = CATEGORIES.get(category, ("", False))
    return not (transactional and channel == MANDATORY_CHANNEL)


def wanted(category: str, channel: str, opt_outs: list[str]) -> bool:
    """Whether the message goes out, given the person's opt-outs (mandatory mail always)."""
    return not can_opt_out(category, channel) or f"{category}:{channel}" not in opt_outs
