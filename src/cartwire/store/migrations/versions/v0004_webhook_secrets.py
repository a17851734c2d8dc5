"""Webhook shared secrets, one per flow binding, encrypted at rest.

A table of its own rather than a nullable column on `flow_bindings`: every row of an encrypted
column then holds a token, which is what key rotation (`ENCRYPTED_COLUMNS`) expects, and removing
a binding removes its secret with it (foreign key, cascade).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_secrets",
        sa.Column("flow", sa.String(200), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["flow"],
            ["flow_bindings.flow"],
            name=op.f("fk_webhook_secrets_flow_flow_bindings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("flow", name=op.f("pk_webhook_secrets")),
    )


def downgrade() -> None:
    op.drop_table("webhook_secrets")
