"""The records a run was given rather than read (a webhook's payload), kept until it ends.

A webhook sender is answered 202 as soon as the run exists, and does not send again: without
its records in the store, a run killed half-way would lose them. A table of its own, so that
listing runs never loads payloads, and a finished run's payload can be dropped.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_inputs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_inputs_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_inputs")),
    )


def downgrade() -> None:
    op.drop_table("run_inputs")
