"""The judge API's refusals, each with a stable code the page branches on."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, InvigilatorError, Unavailable


class NotCoding(Conflict):
    code = "not_a_coding_item"


class NoSamples(Conflict):
    code = "no_samples"


class LanguageNotOffered(InvalidInput):
    code = "language_not_offered"


class CodeTooLarge(InvigilatorError):
    code = "code_too_large"
    status = 413


class TooManyRuns(InvigilatorError):
    code = "too_many_runs"
    status = 429


class JudgeDown(Unavailable):
    code = "judge_unavailable"
