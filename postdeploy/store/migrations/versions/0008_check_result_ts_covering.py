"""check results by time: the ts index also covers service_id, ok and latency_ms, so that
availability and SLO counts over a period read the index alone (no row lookups)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_check_result_ts", table_name="check_result")
    op.create_index("ix_check_result_ts", "check_result", ["ts", "service_id", "ok", "latency_ms"])


def downgrade() -> None:
    op.drop_index("ix_check_result_ts", table_name="check_result")
    op.create_index("ix_check_result_ts", "check_result", ["ts"])
