"""tickets: assignee, SLA thresholds already escalated, last escalation

Revision ID: 0002
Revises: 0003
Create Date: 2026-11-27 07:45:14.082889
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column(
                "sla_crossed",
                sa.Integer(),
                server_default="0",
                nullable=False,
                comment="SLA thresholds already escalated: bits of postdeploy.domain.sla.Crossed",
            )
        )
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("sla_crossed")
        batch_op.drop_column("assignee")
