"""knowledge base: how each ticket was resolved (close notes), from the import

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 08:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "ticket",
        sa.Column(
            "resolution",
            sa.Text(),
            nullable=True,
            comment="How it was resolved (close notes), from the import",
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.drop_column("resolution")
