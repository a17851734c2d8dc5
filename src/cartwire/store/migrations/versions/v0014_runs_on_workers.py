"""Runs on workers are marked (`runs.on_workers`), so that a run whose worker vanished can be
told from one a foreground process left unfinished: the workers queue the first again by
themselves (`store.runs.requeue_lost`), the second waits for `cartwire runs resume`.

Runs from before ran in the foreground (false).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A default rather than a rebuild of `runs`, as in 0010: the tables referring to runs stay.
    op.add_column(
        "runs", sa.Column("on_workers", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("runs", "on_workers")
