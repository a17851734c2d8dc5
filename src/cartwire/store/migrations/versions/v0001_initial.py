"""Instances and their cached access tokens.

Revision ID: 0001
Revises:
Create Date: 2026-05-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("connector", sa.String(length=100), nullable=False),
        sa.Column("auth_method", sa.String(length=100), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets_enc", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=100), nullable=False),
        sa.Column("rate_limit_amount", sa.Integer(), nullable=True),
        sa.Column("rate_limit_unit", sa.String(length=10), nullable=True),
        sa.Column("pool", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "rate_limit_unit IN ('second', 'minute', 'hour', 'day')",
            name=op.f("ck_instances_rate_limit_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
        sa.UniqueConstraint("name", name=op.f("uq_instances_name")),
    )
    op.create_table(
        "tokens",
        sa.Column("cache_key", sa.String(length=500), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("access_token_enc", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("obtained_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_tokens_instance_id_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cache_key", name=op.f("pk_tokens")),
    )
    op.create_index(op.f("ix_tokens_instance_id"), "tokens", ["instance_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_tokens_instance_id"), table_name="tokens")
    op.drop_table("tokens")
    op.drop_table("instances")
