"""KPI values kept per period, scope and metric (kpi_snapshot), for trends and charts. Saving a
period again replaces its values: a rerun never duplicates, a late import corrects them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, delete, select

from postdeploy.domain.kpi import KpiValue
from postdeploy.domain.kpi.value import Tier
from postdeploy.store.schema import kpi_snapshot
from postdeploy.store.upsert import upsert

Key = tuple[str, str, str]  # period label, scope, metric


def save_snapshot(conn: Connection, label: str, values: Iterable[tuple[str, str, KpiValue]]) -> int:
    """Store (scope, metric, value) for the period `label`; its other rows are removed."""
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {"period": label, "scope": scope, "metric": metric, "value": v.value, "unit": v.unit,
         "n": v.n, "note": v.note, "tier": v.tier, "computed_at": now}
        for scope, metric, v in values
    ]  # fmt: skip
    conn.execute(delete(kpi_snapshot).where(kpi_snapshot.c.period == label))
    upsert(conn, kpi_snapshot, rows, keys=["period", "scope", "metric"],
           update=["value", "unit", "n", "note", "tier", "computed_at"])  # fmt: skip
    return len(rows)


def load_snapshots(
    conn: Connection, labels: Sequence[str], *, scope: str | None = None
) -> dict[Key, KpiValue]:
    """The stored values of these periods (one scope, or all)."""
    query = select(kpi_snapshot).where(kpi_snapshot.c.period.in_(list(labels)))
    if scope is not None:
        query = query.where(kpi_snapshot.c.scope == scope)
    return {
        (r.period, r.scope, r.metric): KpiValue(
            r.value, r.unit, r.n, r.note, cast(Tier | None, r.tier)
        )
        for r in conn.execute(query)
    }


def stored_periods(conn: Connection) -> set[str]:
    return {p for (p,) in conn.execute(select(kpi_snapshot.c.period).distinct())}
