"""Flows: default bindings, incremental cursors, runs with checkpoints, logs and failed
records, the one-active-run lock, lookup tables and started schedule slots.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "flow_bindings",
        sa.Column("flow", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("flow", name=op.f("pk_flow_bindings")),
    )
    op.create_index(op.f("ix_flow_bindings_source"), "flow_bindings", ["source"])
    op.create_index(op.f("ix_flow_bindings_destination"), "flow_bindings", ["destination"])
    op.create_table(
        "flow_cursors",
        sa.Column("flow", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("position", sa.JSON(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("flow", "source", "destination", name=op.f("pk_flow_cursors")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(200), nullable=False),
        sa.Column("flow_version", sa.Integer(), nullable=False),
        sa.Column("flow_text", sa.Text(), nullable=False),
        sa.Column("trigger", sa.String(50), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("checkpoint", sa.JSON(), nullable=True),
        sa.Column("retry_of", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("heartbeat_at", WHEN, nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'partially succeeded', 'failed', "
            "'stopped', 'interrupted')",
            name=op.f("ck_runs_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_flow"), "runs", ["flow"])
    op.create_index(op.f("ix_runs_status"), "runs", ["status"])
    op.create_table(
        "active_runs",
        sa.Column("flow", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_active_runs_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("flow", "source", "destination", name=op.f("pk_active_runs")),
    )
    op.create_table(
        "run_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_logs_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_logs")),
    )
    op.create_index(op.f("ix_run_logs_run_id"), "run_logs", ["run_id"])
    op.create_table(
        "run_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("output", sa.String(200), nullable=False),
        sa.Column("key", sa.String(500), nullable=True),
        sa.Column("code", sa.String(200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_failures_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_failures")),
    )
    op.create_index(op.f("ix_run_failures_run_id"), "run_failures", ["run_id"])
    op.create_table(
        "lookups",
        sa.Column("table", sa.String(200), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("table", "source", name=op.f("pk_lookups")),
    )
    op.create_table(
        "schedule_slots",
        sa.Column("flow", sa.String(200), nullable=False),
        sa.Column("slot", WHEN, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("flow", "slot", name=op.f("pk_schedule_slots")),
    )


def downgrade() -> None:
    for table in (
        "schedule_slots",
        "lookups",
        "run_failures",
        "run_logs",
        "active_runs",
        "runs",
        "flow_cursors",
        "flow_bindings",
    ):
        op.drop_table(table)
