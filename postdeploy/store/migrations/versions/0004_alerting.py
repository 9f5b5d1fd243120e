"""alerting: pending rule alerts, silences, alert groups and the notification log

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-27 07:51:56.661312
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_group",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_key", sa.String(length=250), nullable=False),
        sa.Column("receiver", sa.String(length=100), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_flush_at", sa.DateTime(), nullable=True),
        sa.Column("last_notified_at", sa.DateTime(), nullable=True),
        sa.Column(
            "last_digest",
            sa.JSON(),
            nullable=False,
            comment='{"firing": [fingerprint...], "resolved": [...]}: what the receiver was told',
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_group")),
        sa.UniqueConstraint("group_key", "receiver", name="uq_alert_group_group_key"),
    )
    op.create_table(
        "alert_notification",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_key", sa.String(length=250), nullable=False),
        sa.Column("receiver", sa.String(length=100), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("firing", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("fingerprints", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notification")),
        sa.UniqueConstraint(
            "group_key", "receiver", "sent_at", name="uq_alert_notification_group_key"
        ),
    )
    op.create_index("ix_alert_notification_sent_at", "alert_notification", ["sent_at"])
    op.create_table(
        "alert_pending",
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_alert_pending")),
    )
    op.create_table(
        "silence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "matchers",
            sa.JSON(),
            nullable=False,
            comment='["service=api", ...], all must match',
        ),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silence")),
    )
    op.create_index("ix_silence_ends_at", "silence", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_silence_ends_at", table_name="silence")
    op.drop_table("silence")
    op.drop_table("alert_pending")
    op.drop_index("ix_alert_notification_sent_at", table_name="alert_notification")
    op.drop_table("alert_notification")
    op.drop_table("alert_group")
