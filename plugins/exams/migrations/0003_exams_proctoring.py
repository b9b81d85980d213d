"""attempt pause and who ended an attempt

Revision ID: 0003_exams_proctoring
Revises: 0002_exams_clock
Create Date: 2026-11-27 09:00:00.000000

Live proctoring lets a proctor pause, resume and end an attempt. ``attempts.paused_at`` is set
while a proctor holds the attempt (saves and submit are refused, the clock stands still);
``ended_by`` records who closed an attempt (``candidate``, ``timer`` or ``proctor``) and
``end_reason`` the proctor's reason, so results and reviews can tell a proctor's decision from
a time-up. Attempts closed before this revision keep ``ended_by`` null (unknown).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0003_exams_proctoring"
down_revision: str | Sequence[str] | None = "0002_exams_clock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("ended_by", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("end_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_column("end_reason")
        batch_op.drop_column("ended_by")
        batch_op.drop_column("paused_at")
