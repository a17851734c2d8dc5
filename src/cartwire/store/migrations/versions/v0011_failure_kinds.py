"""Typed failure reasons: the kind of each failed record and of each failed run
(configuration, transient, data, conflict, internal; `cartwire.flows.failure_reasons`).

Failures and runs from before have none (NULL: not known, rather than guessed from a message).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("failure_kind", sa.String(20), nullable=True))
    op.add_column("run_failures", sa.Column("kind", sa.String(20), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+), not by a rebuild, as 0009 explains.
    op.drop_column("run_failures", "kind")
    op.drop_column("runs", "failure_kind")
