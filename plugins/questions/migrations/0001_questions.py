"""question bank tables

Revision ID: 0001_questions
Revises:
Create Date: 2026-11-25 19:04:11.838909
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0001_questions"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("questions",)
depends_on: str | Sequence[str] | None = "0001_kernel"


def upgrade() -> None:
    op.create_table(
        "question_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["question_categories.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("difficulty", sa.String(length=8), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["question_categories.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_questions_archived"), ["archived"], unique=False)
        batch_op.create_index(batch_op.f("ix_questions_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_questions_difficulty"), ["difficulty"], unique=False)
        batch_op.create_index(batch_op.f("ix_questions_type"), ["type"], unique=False)

    op.create_table(
        "question_tags",
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
        ),
        sa.PrimaryKeyConstraint("question_id", "tag"),
    )
    with op.batch_alter_table("question_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "question_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("question_id", "version"),
    )
    with op.batch_alter_table("question_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_question_versions_question_id"), ["question_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("question_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_versions_question_id"))

    op.drop_table("question_versions")
    with op.batch_alter_table("question_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_tags_tag"))

    op.drop_table("question_tags")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questions_type"))
        batch_op.drop_index(batch_op.f("ix_questions_difficulty"))
        batch_op.drop_index(batch_op.f("ix_questions_category_id"))
        batch_op.drop_index(batch_op.f("ix_questions_archived"))

    op.drop_table("questions")
    op.drop_table("question_categories")
