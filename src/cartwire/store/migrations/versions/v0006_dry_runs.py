"""What a dry run would change, and a run's record limit (`flows run --limit N`).

`run_changes` is a table of its own so that listing runs never loads them; a dry run keeps only
its first few records' changes (`runs.KEPT_CHANGES`), so it stays small however big the run.
What it would write and the old values are records' data: sealed in `payload_enc` (Fernet, the
store's keyring), like failed records.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("record_limit", sa.Integer(), nullable=True))
    op.create_table(
        "run_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("output", sa.String(200), nullable=False),
        sa.Column("key", sa.String(500), nullable=True),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("payload_enc", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_changes_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_changes")),
    )
    op.create_index(op.f("ix_run_changes_run_id"), "run_changes", ["run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_run_changes_run_id"), table_name="run_changes")
    op.drop_table("run_changes")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("record_limit")
