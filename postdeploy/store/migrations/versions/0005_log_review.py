"""log review: file cursors, signatures and their daily counts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_cursor",
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_log_cursor")),
    )
    op.create_table(
        "log_signature",
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("signature_id", sa.String(length=40), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("service", "signature_id", name=op.f("pk_log_signature")),
    )
    op.create_table(
        "log_daily",
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("signature_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False, comment="YYYY-MM-DD (UTC)"),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("service", "signature_id", "day", name=op.f("pk_log_daily")),
    )


def downgrade() -> None:
    op.drop_table("log_daily")
    op.drop_table("log_signature")
    op.drop_table("log_cursor")
