"""kpi snapshots keep the unit, sample size, note and DORA tier of each value

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kpi_snapshot") as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(30), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("n", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column(
                "tier",
                sa.String(10),
                nullable=True,
                comment="DORA performance tier, for the DORA metrics",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("kpi_snapshot") as batch_op:
        for column in ("tier", "note", "n", "unit"):
            batch_op.drop_column(column)
