"""check_daily: per service, check and UTC day ok/total counts and a latency histogram of ok
results, kept by record_sweep; backfilled here from check_result in SQL

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# as postdeploy.domain.uptime at this revision: bucket 0 <= 1 ms, bucket k <= 2^(k/4) ms,
# bucket 61 slower than 32,768 ms
BOUNDS = tuple(2 ** (k / 4) for k in range(61))
BUCKETS = tuple(f"lat_{i:02d}" for i in range(len(BOUNDS) + 1))
DAY = 86400


def upgrade() -> None:
    op.create_table(
        "check_daily",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("check_name", sa.String(100), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False, comment="UTC days since the epoch"),
        sa.Column("ok", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("demo", sa.Integer(), nullable=False),
        sa.Column("latency_n", sa.Integer(), nullable=False, comment="ok results with a latency"),
        sa.Column("latency_sum", sa.Float(), nullable=False),
        sa.Column("latency_min", sa.Float(), nullable=True),
        sa.Column("latency_max", sa.Float(), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in BUCKETS),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name="fk_check_daily_service_id_service",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "check_name", "day", name="pk_check_daily"),
    )
    r = sa.table(
        "check_result",
        sa.column("service_id", sa.Integer()),
        sa.column("check_name", sa.String()),
        sa.column("sweep_id", sa.String()),
        sa.column("ts", sa.Float()),
        sa.column("ok", sa.Boolean()),
        sa.column("latency_ms", sa.Float()),
    ).c
    timed = sa.and_(r.ok, r.latency_ms.is_not(None))
    bucket = sa.case(
        *((r.latency_ms <= bound, sa.literal(i)) for i, bound in enumerate(BOUNDS)),
        else_=sa.literal(len(BOUNDS)),
    )
    s = sa.select(
        r.service_id,
        r.check_name,
        sa.cast(sa.func.floor(r.ts / DAY), sa.Integer()).label("day"),
        sa.case((r.ok, 1), else_=0).label("ok"),
        sa.case((r.sweep_id.startswith("demo-"), 1), else_=0).label("demo"),
        sa.case((timed, 1), else_=0).label("timed"),
        sa.case((timed, r.latency_ms), else_=None).label("latency"),
        sa.case((timed, bucket), else_=None).label("bucket"),
    ).subquery()
    query = sa.select(
        s.c.service_id,
        s.c.check_name,
        s.c.day,
        sa.func.sum(s.c.ok),
        sa.func.count(),
        sa.func.sum(s.c.demo),
        sa.func.sum(s.c.timed),
        sa.func.coalesce(sa.func.sum(s.c.latency), 0.0),
        sa.func.min(s.c.latency),
        sa.func.max(s.c.latency),
        *(sa.func.sum(sa.case((s.c.bucket == i, 1), else_=0)) for i in range(len(BUCKETS))),
    ).group_by(s.c.service_id, s.c.check_name, s.c.day)
    names = [
        "service_id", "check_name", "day", "ok", "total", "demo", "latency_n", "latency_sum",
        "latency_min", "latency_max", *BUCKETS,
    ]  # fmt: skip
    daily = sa.table("check_daily", *(sa.column(n) for n in names))
    op.execute(daily.insert().from_select(names, query))


def downgrade() -> None:
    op.drop_table("check_daily")
