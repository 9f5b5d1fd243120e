"""scrape state: the last /metrics scrape per service, for rates between scrapes

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-27 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scrape_state",
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False, comment="epoch seconds of the last scrape"),
        sa.Column(
            "samples",
            sa.JSON(),
            nullable=False,
            comment="[[name, [[label, value]...], value]...]",
        ),
        sa.PrimaryKeyConstraint("service", name=op.f("pk_scrape_state")),
    )


def downgrade() -> None:
    op.drop_table("scrape_state")
