"""The ``[generation]`` table of plugins.toml: which generator writes drafts, and its limits.

The default backend is ``offline`` so that a fresh install (and ``make run``) can demonstrate
generation with no network and no API key; ``openai`` speaks to any OpenAI-compatible chat API.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The route's own body cap: ``max_upload_mb`` can be lowered freely but never raised past it.
UPLOAD_HARD_CAP_MB = 50


class OpenAIConfig(BaseModel):
    """An OpenAI-compatible chat-completions server: OpenAI, vLLM, Ollama, llama.cpp server."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        "https://api.openai.com/v1",
        description="Up to and including the version, e.g. http://localhost:11434/v1 (Ollama).",
    )
    model: str = Field("gpt-4o-mini", min_length=1, description="Model name the server knows.")
    api_key: str = Field("", description="Key sent as a Bearer token; prefer api_key_env.")
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="Environment variable holding the key when api_key is empty."
    )
    json_mode: Literal["json_schema", "json_object"] = Field(
        "json_schema",
        description="json_schema sends the answer's schema (strict); json_object is for servers "
        "that only promise some JSON object. Answers are validated either way.",
    )
    timeout: float = Field(120.0, gt=0, le=3600, description="Seconds for one HTTP request.")
    retries: int = Field(
        3,
        ge=0,
        le=10,
        description="Extra tries after a 429/5xx or a network error, and after an answer "
        "that is not valid JSON for the schema (the error goes back to the model).",
    )
    backoff_seconds: float = Field(
        2.0, ge=0, le=60, description="First wait before a retry; doubles each time."
    )
    max_retry_after: float = Field(
        60.0, ge=0, le=3600, description="Longest Retry-After the client will honour."
    )
    temperature: float = Field(0.7, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(2000, ge=64, le=100_000, description="Most tokens in one answer.")
    price_prompt_per_1k: float = Field(
        0.0, ge=0, description="Cost of 1000 prompt tokens, for the per-job cost log."
    )
    price_completion_per_1k: float = Field(
        0.0, ge=0, description="Cost of 1000 completion tokens, for the per-job cost log."
    )


class GenerationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: str = Field(
        "offline",
        min_length=1,
        description='"offline" (default, no network), "openai", or a name a plugin registers '
        "with invigilator_question_generators.",
    )
    openai: OpenAIConfig = Field(
        default_factory=OpenAIConfig,
        description="The OpenAI-compatible server (table [generation.openai]), used when "
        'backend = "openai".',
    )
    max_upload_mb: float = Field(
        10.0,
        gt=0,
        le=UPLOAD_HARD_CAP_MB,
        description="Largest study-material file (PDF, Markdown, text) accepted (413 beyond).",
    )
    max_material_chars: int = Field(
        200_000, ge=1000, le=2_000_000, description="Longest material text kept for one job."
    )
    max_questions_per_job: int = Field(
        50, ge=1, le=500, description="Most questions one generation request may ask for."
    )
    stale_after_minutes: int = Field(
        30,
        ge=1,
        le=24 * 60,
        description="A job that shows no progress for this long (its process stopped) is "
        "reported failed, with how far it got, instead of spinning forever.",
    )
    duplicate_threshold: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Similarity (0-1, character n-gram TF-IDF cosine) at or above which a "
        "draft is flagged as a near-duplicate of a bank question.",
    )
