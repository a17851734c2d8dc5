"""Runs on workers: which slice a run is at, and the fencing token of whoever holds it.

A run that Celery workers process goes in short slices (`cartwire.services.slices`); only the
message of the slice the run is at may take it (`slice_no`), and each takeover raises the run's
fencing token (`lease_token`), so a page committed under an older token is refused. Runs from
before start at slice 0 with token 0, which is what an in-process run keeps all its life.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("slice_no", "lease_token")


def upgrade() -> None:
    # Defaults rather than a rebuild of `runs`, as in 0009: the tables referring to runs stay.
    for name in COLUMNS:
        op.add_column(
            "runs", sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("runs", name)
