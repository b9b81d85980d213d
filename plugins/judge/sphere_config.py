"""The ``[judge.sphere]`` settings: a Sphere Engine Problems (API v4) account.

Compiler ids are Sphere Engine's (``GET /compilers`` lists them): 116 Python 3, 11 C, 1 C++
(GCC), 56 JavaScript (Node.js), 10 Java. Test-case judge ids name the comparison Sphere Engine
runs for every test (``GET /judges?typeId=0`` lists the account's): 1 is the built-in
"ignores extra white spaces", 2 "ignores floating-point errors up to 0.01". Exact comparison
needs a judge id on the account (a custom judge, ``POST /judges``); without one, exact
questions are compared ignoring extra white space and the result says so.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from plugins.judge.judge0_config import RemoteLanguage, check_url


def _sphere_compilers() -> dict[str, RemoteLanguage]:
    return {
        "python": RemoteLanguage(id=116, label="Python 3", editor_mode="python"),
        "c": RemoteLanguage(id=11, label="C (GCC)", editor_mode="c"),
        "cpp": RemoteLanguage(id=1, label="C++ (GCC)", editor_mode="cpp"),
        "java": RemoteLanguage(id=10, label="Java", editor_mode="java"),
        "javascript": RemoteLanguage(id=56, label="JavaScript (Node.js)", editor_mode="javascript"),
    }


class SphereConfig(BaseModel):
    """How Invigilator reaches a Sphere Engine Problems account."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(
        description="The account's API base, e.g. https://<id>.problems.sphere-engine.com/api/v4."
    )
    access_token: SecretStr = Field(description="The account's API access token.")
    compilers: dict[str, RemoteLanguage] = Field(
        default_factory=_sphere_compilers,
        description="Question language name -> Sphere Engine compiler id, label, editor mode.",
    )
    whitespace_judge_id: int = Field(
        1, gt=0, description="Test-case judge that ignores extra white space."
    )
    float_judge_id: int | None = Field(
        2, gt=0, description="Test-case judge that ignores floating-point errors; none: off."
    )
    float_judge_tolerance: float = Field(
        0.01, gt=0, description="The absolute error the float judge accepts."
    )
    exact_judge_id: int | None = Field(
        None, gt=0, description="Test-case judge comparing byte for byte, if the account has one."
    )
    masterjudge_id: int = Field(
        1001, gt=0, description="Master judge; 1001 scores the share of tests passed."
    )
    problem_code_prefix: str = Field(
        "INV",
        pattern=r"^[A-Z][A-Z0-9]{0,7}$",
        description="Start of the codes of the problems this server creates on the account.",
    )
    poll_interval_seconds: float = Field(
        0.5, gt=0, le=30, description="First wait before asking for the result; it then grows."
    )
    max_poll_interval_seconds: float = Field(
        3.0, gt=0, le=60, description="Longest wait between two result polls."
    )
    timeout_seconds: float = Field(
        180, gt=0, le=3600, description="Give up on a run (JudgeUnavailable) after this long."
    )
    request_timeout_seconds: float = Field(
        15, gt=0, le=300, description="Timeout of one HTTP request."
    )
    retries: int = Field(
        4, ge=0, le=10, description="Retries of a request on network errors, 429 and 5xx."
    )
    retry_backoff_seconds: float = Field(
        0.5, gt=0, le=60, description="First wait before a retry; it doubles, up to 8 s."
    )
    verify_tls: bool = Field(True, description="Check the server's TLS certificate.")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        return check_url(value)
