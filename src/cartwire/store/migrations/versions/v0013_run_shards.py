"""Sharded runs: a large full read cut into shards, each a run of its own (`runs.shard_of`
names the run it is a shard of), with its own checkpoint, slice and fencing token, so that many
workers read one run's shards at once and a lost worker costs one slice of one shard.

Runs from before are shards of nothing (NULL).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("shard_of", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_runs_shard_of"), "runs", ["shard_of"])


def downgrade() -> None:
    op.drop_index(op.f("ix_runs_shard_of"), table_name="runs")
    op.drop_column("runs", "shard_of")
