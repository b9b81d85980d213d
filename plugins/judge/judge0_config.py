"""The ``[judge.judge0]`` settings: where the Judge0 server is and how to talk to it.

The language ids are Judge0 CE's (``GET /languages`` on the server lists them); the defaults
are the ids every Judge0 CE 1.13 installation ships. Limits mirror Judge0's own maxima
(``MAX_CPU_TIME_LIMIT`` and friends in judge0.conf) so a question's limits are clamped here
rather than rejected there with a 422.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class RemoteLanguage(BaseModel):
    """One language as a remote service knows it."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(gt=0, description="The service's id for this language or compiler.")
    label: str = Field(description="What the language picker shows, e.g. 'Python 3.8'.")
    editor_mode: str = Field("", description="Syntax-highlighting mode for the editor.")


def _judge0_languages() -> dict[str, RemoteLanguage]:
    return {
        "python": RemoteLanguage(id=71, label="Python 3.8", editor_mode="python"),
        "c": RemoteLanguage(id=50, label="C (GCC 9.2)", editor_mode="c"),
        "cpp": RemoteLanguage(id=54, label="C++ (GCC 9.2)", editor_mode="cpp"),
        "java": RemoteLanguage(id=62, label="Java (OpenJDK 13)", editor_mode="java"),
        "javascript": RemoteLanguage(
            id=63, label="JavaScript (Node.js 12)", editor_mode="javascript"
        ),
    }


def check_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


class Judge0Config(BaseModel):
    """How Invigilator reaches a Judge0 CE (1.13 API) server."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        "http://127.0.0.1:2358",
        description="Base URL of the Judge0 API, e.g. https://judge0.example.org.",
    )
    auth_header: str = Field(
        "X-Auth-Token", description="Header carrying the token (Judge0's AUTHN_HEADER)."
    )
    auth_token: SecretStr | None = Field(
        None, description="Judge0's AUTHN_TOKEN; leave empty when the server has none."
    )
    authz_header: str = Field(
        "X-Auth-User", description="Header for the authorization token (AUTHZ_HEADER)."
    )
    authz_token: SecretStr | None = Field(
        None, description="Judge0's AUTHZ_TOKEN; only needed if the server demands it."
    )
    languages: dict[str, RemoteLanguage] = Field(
        default_factory=_judge0_languages,
        description="Question language name -> Judge0 language_id, label and editor mode.",
    )
    batch_size: int = Field(
        20, ge=1, le=100, description="Submissions per batch call (MAX_SUBMISSION_BATCH_SIZE)."
    )
    poll_interval_seconds: float = Field(
        0.5, gt=0, le=30, description="First wait before asking for results; it then grows."
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
    max_cpu_time_limit: float = Field(
        15, gt=0, description="Judge0's MAX_CPU_TIME_LIMIT (s); longer test limits are cut."
    )
    max_wall_time_limit: float = Field(20, gt=0, description="Judge0's MAX_WALL_TIME_LIMIT (s).")
    max_memory_limit_kb: int = Field(
        512_000, gt=0, description="Judge0's MAX_MEMORY_LIMIT (KB); larger limits are cut."
    )
    verify_tls: bool = Field(True, description="Check the server's TLS certificate.")
    preview_chars: int = Field(
        2000, ge=0, le=100_000, description="How much stdout/stderr a visible test keeps."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)
