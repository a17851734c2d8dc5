"""What the HTTP API and the web UI show of a run: its counts by step, the incremental cursor
before and after it, and an index to list runs by time.

Runs from before keep no counts by step (an empty object: they were never tallied so) and no
cursor positions (NULL: unknown, not "none").

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A default rather than a rebuild of `runs` (which SQLite would need to make a column NOT
    # NULL after filling it): the tables referring to runs are left alone.
    empty = sa.Column("step_counts", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
    op.add_column("runs", empty)
    op.add_column("runs", sa.Column("cursor_before", sa.JSON(), nullable=True))
    op.add_column("runs", sa.Column("cursor_after", sa.JSON(), nullable=True))
    op.create_index(op.f("ix_runs_created_at"), "runs", ["created_at"])


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+), not by a rebuild: dropping `runs` to rebuild it would
    # delete the rows of every table referring to it, whenever foreign keys are on.
    op.drop_index(op.f("ix_runs_created_at"), table_name="runs")
    for column in ("cursor_after", "cursor_before", "step_counts"):
        op.drop_column("runs", column)
