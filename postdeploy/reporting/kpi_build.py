"""Assemble a KPI report: the period's KPIs (after the data-quality gate), the previous period's
for the trends and the last periods' for the charts, all kept in kpi_snapshot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from postdeploy.catalog import Catalog
from postdeploy.domain.periods import Period, previous
from postdeploy.domain.quality import GateReport
from postdeploy.reporting.kpis import KpiReport, Values
from postdeploy.store.kpi_snapshots import load_snapshots, save_snapshot
from postdeploy.store.kpis import KpiSet, compute_kpis

HISTORY = 6  # periods in the trend charts, the current one included


def _values(kpis: KpiSet) -> Values:
    return {(k.scope, k.metric): k.value for k in kpis.kpis}


def _snapshot(conn: Connection, kpis: KpiSet) -> None:
    save_snapshot(conn, kpis.period.label, ((k.scope, k.metric, k.value) for k in kpis.kpis))


def assemble(
    conn: Connection,
    catalog: Catalog,
    period: Period,
    *,
    now: datetime,
    gate: GateReport | None = None,
    history: int = HISTORY,
) -> KpiReport:
    """Compute and snapshot the period. Earlier periods come from their snapshots (what was
    reported then); a period never reported is computed now and snapshotted."""
    current = compute_kpis(conn, catalog, period, now=now, blocked=gate.blocked if gate else None)
    _snapshot(conn, current)
    earlier: list[Period] = []
    p = period
    for _ in range(max(history - 1, 1)):
        p = previous(p)
        earlier.append(p)
    stored = load_snapshots(conn, [e.label for e in earlier])
    series: list[tuple[str, Values]] = []
    for e in reversed(earlier):
        values: Values = {(s, m): v for (label, s, m), v in stored.items() if label == e.label}
        if not values:
            computed = compute_kpis(conn, catalog, e, now=now)
            _snapshot(conn, computed)
            values = _values(computed)
        series.append((e.label, values))
    series.append((period.label, _values(current)))
    prev = series[-2][1]
    return KpiReport(current, prev, series[-history:], gate, catalog.timezone)
