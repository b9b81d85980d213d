"""exam service heartbeat and rubric scores

Revision ID: 0002_exams_clock
Revises: 0001_exams
Create Date: 2026-11-26 09:00:00.000000

``exam_heartbeats`` holds the last time the service was seen up, so a process starting after an
outage can credit the lost time to attempts that were in progress (the in-process cache does not
survive a restart, so it cannot hold this). ``answers.rubric_scores`` keeps the per-criterion
marks a grader gave an essay, for the candidate's released result and for appeals.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0002_exams_clock"
down_revision: str | Sequence[str] | None = "0001_exams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exam_heartbeats",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("beat_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rubric_scores", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_column("rubric_scores")
    op.drop_table("exam_heartbeats")
