"""The ``[questions]`` table of plugins.toml: limits on what one request may make the bank do."""

from __future__ import annotations

from pydantic import BaseModel, Field

# The route's own body cap: the configured import limit can be lowered freely but never raised
# past this, so an operator typo cannot let a request stream gigabytes into memory.
IMPORT_HARD_CAP = 64 * 1024 * 1024


class QuestionsConfig(BaseModel):
    """Every default suits a single department's bank; raise them for large shared banks."""

    max_import_bytes: int = Field(
        5 * 1024 * 1024,
        ge=1024,
        le=IMPORT_HARD_CAP,
        description="Largest Moodle XML or GIFT file an import accepts (413 beyond it).",
    )
    max_import_questions: int = Field(
        2000, ge=1, le=50_000, description="Most questions one import may create."
    )
    max_export_questions: int = Field(
        5000,
        ge=1,
        le=100_000,
        description="Most questions one export may hold; narrow the filters beyond it.",
    )
    max_page_size: int = Field(
        200, ge=1, le=1000, description="Largest `limit` the question list accepts."
    )
