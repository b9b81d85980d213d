"""live proctoring tables

Revision ID: 0001_proctoring
Revises:
Create Date: 2026-11-25 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0001_proctoring"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("proctoring",)
depends_on: str | Sequence[str] | None = "0001_exams"


def upgrade() -> None:
    op.create_table(
        "proctoring_scores",
        sa.Column("attempt_id", sa.String(length=32), sa.ForeignKey("attempts.id"), nullable=False),
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("violations", sa.Integer(), nullable=False),
        sa.Column("open_violations", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id"),
    )
    op.create_index("ix_proctoring_scores_exam_id", "proctoring_scores", ["exam_id"])
    op.create_table(
        "violation_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.String(length=32), sa.ForeignKey("attempts.id"), nullable=False),
        sa.Column("violation_id", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("attempt_id", "violation_id"),
    )
    op.create_index("ix_violation_reviews_attempt_id", "violation_reviews", ["attempt_id"])
    op.create_table(
        "proctor_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.String(length=32), sa.ForeignKey("attempts.id"), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_proctor_actions_attempt_id", "proctor_actions", ["attempt_id"])
    op.create_table(
        "proctoring_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.Integer(), sa.ForeignKey("exams.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("text_version", sa.String(length=20), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("consented_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exam_id", "user_id"),
    )
    op.create_index("ix_proctoring_consents_exam_id", "proctoring_consents", ["exam_id"])


def downgrade() -> None:
    op.drop_table("proctoring_consents")
    op.drop_table("proctor_actions")
    op.drop_table("violation_reviews")
    op.drop_table("proctoring_scores")
