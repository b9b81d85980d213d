"""Every refused state transition of the exams plugin, each with its own stable code.

The exam page branches on ``error.code`` (for example it drops a queued save on
``stale_answer`` but stops the timer on ``attempt_closed``), so each refusal is a class whose
code never changes, rather than a message to parse.
"""

from __future__ import annotations

import re

from core.errors import Conflict, InvalidInput, InvigilatorError

PAUSED_MESSAGE = "the proctor paused your exam; wait for them to resume it"


class AttemptClosed(Conflict):
    """Saving or changing an attempt that is submitted or past its deadline plus grace."""

    code = "attempt_closed"


class AttemptPaused(Conflict):
    """A proctor paused the attempt: saves and submit wait until they resume it. The page keeps
    unsent answers on this code (unlike ``attempt_closed``) and sends them after the resume."""

    code = "attempt_paused"


class InvalidPolicy(InvalidInput):
    """An exam's ``proctoring_policy`` that :class:`core.policy.ProctoringPolicy` refuses; the
    message names the first problem and details list them all."""

    code = "invalid_policy"


class StaleAnswer(Conflict):
    """A save whose ``seq`` is not newer than the stored one; details carry the stored seq."""

    code = "stale_answer"


class SequenceRequired(Conflict):
    """Sequential navigation: an earlier item has neither an answer nor an explicit skip."""

    code = "sequence_required"


class ExamNotOpen(Conflict):
    code = "exam_not_open"


class ExamClosed(Conflict):
    code = "exam_closed"


class NoAttemptsLeft(Conflict):
    code = "no_attempts_left"


class PaperUnavailable(Conflict):
    """The bank can no longer supply the questions the sections ask for."""

    code = "paper_unavailable"


class ExamNotDraft(Conflict):
    """Sections and publishing apply to drafts only (papers already drawn must stay valid)."""

    code = "exam_not_draft"


class ExamArchived(Conflict):
    code = "exam_archived"


class NotPublishable(Conflict):
    """Publishing refused; details list every problem found."""

    code = "not_publishable"


class AttemptInProgress(Conflict):
    """Grading or a result asked for an attempt that has not been submitted yet."""

    code = "attempt_in_progress"


class ResultNotReleased(Conflict):
    code = "result_not_released"


class ResultPending(Conflict):
    """Released, but some item still waits for a person or the judge."""

    code = "result_pending"


class ResponseInvalid(InvalidInput):
    """The response does not have its type's shape; details list the fields as the web layer's
    own ``validation_error`` does."""

    code = "validation_error"


class InvalidAnswer(InvalidInput):
    """The response does not fit the question (unknown option, language not offered...)."""

    code = "invalid_answer"


class AnswerTooLarge(InvigilatorError):
    code = "answer_too_large"
    status = 413


class StartRefused(Conflict):
    """A plugin's ``invigilator_attempt_starting`` refused the start; subclasses carry its code."""

    code = "start_refused"


_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_REFUSALS: dict[str, type[StartRefused]] = {}


def start_refused(code: str, message: str, *, details: object = None) -> StartRefused:
    """The 409 for a refused start whose envelope ``code`` is the plugin's answer.

    Codes are stable identifiers the page branches on (``consent_required``), so one class per
    code is made once and kept; an answer that is not such an identifier becomes
    ``start_refused`` rather than reaching clients as it is.
    """
    if not _CODE.match(code):
        code = StartRefused.code
    cls = _REFUSALS.get(code)
    if cls is None:
        cls = type(f"StartRefused_{code}", (StartRefused,), {"code": code})
        _REFUSALS[code] = cls
    return cls(message, details=details)
