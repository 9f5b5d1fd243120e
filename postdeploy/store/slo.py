"""SLO counts from check results: good/total per service and window in one grouped query."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, select

from postdeploy.catalog import Service
from postdeploy.domain.slo import (
    WORKBOOK_RULES,
    BurnRule,
    Counts,
    Objective,
    SloStatus,
    assess,
    rule_windows,
)
from postdeploy.store.schema import check_result, service


@dataclass(frozen=True)
class ServiceCounts:
    """Good/total per window: availability (good = ok) and latency (good = ok and at most the
    threshold; empty when the service has no latency objective)."""

    availability: dict[timedelta, Counts] = field(default_factory=dict)
    latency: dict[timedelta, Counts] = field(default_factory=dict)

    def of(self, sli: str) -> dict[timedelta, Counts]:
        return self.latency if sli == "latency" else self.availability


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def slo_counts(
    conn: Connection,
    *,
    now: datetime,
    windows: Collection[timedelta],
    latency_ms: Mapping[str, float] | None = None,
) -> dict[str, ServiceCounts]:
    """Counts over (now - window, now] for every window and service with results in the
    longest one; one scan, three conditional sums per window."""
    windows = sorted(set(windows))
    if not windows:
        return {}
    until = now.timestamp()
    ts, ok = check_result.c.ts, check_result.c.ok
    # no join: SQLite would loop the range once per service; `+ 0` keeps it on the ts index
    sid = (check_result.c.service_id + 0).label("sid")
    names = dict(conn.execute(select(service.c.id, service.c.name)).all())
    threshold = (
        case(
            {i: latency_ms[n] for i, n in names.items() if n in latency_ms},
            value=check_result.c.service_id,
            else_=None,
        )
        if latency_ms
        else literal(None)
    )
    fast = and_(ok, check_result.c.latency_ms <= threshold)
    columns = []
    for i, window in enumerate(windows):
        inside = ts > until - window.total_seconds()
        columns += [
            _count(inside).label(f"total_{i}"),
            _count(and_(inside, ok)).label(f"good_{i}"),
            _count(and_(inside, fast)).label(f"fast_{i}"),
        ]
    rows = conn.execute(
        select(sid, *columns)
        .where(ts > until - windows[-1].total_seconds(), ts <= until)
        .group_by(sid)
    )
    latency_ms = latency_ms or {}
    found: dict[str, ServiceCounts] = {}
    for row in rows:
        values = row._mapping
        name = names.get(row.sid)
        if name is None:
            continue
        has_latency = name in latency_ms
        counts = ServiceCounts()
        for i, window in enumerate(windows):
            total = int(values[f"total_{i}"])
            counts.availability[window] = Counts(int(values[f"good_{i}"]), total)
            if has_latency:
                counts.latency[window] = Counts(int(values[f"fast_{i}"]), total)
        found[name] = counts
    return found


def objectives(svc: Service) -> dict[str, Objective]:
    """A service's objectives from its catalog SLO: availability, and latency if it has one."""
    slo = svc.slo
    found = {"availability": Objective(slo.availability, slo.window)}
    if slo.latency_ms is not None:
        found["latency"] = Objective(slo.latency_percentile, slo.window)
    return found


def service_slos(
    conn: Connection,
    *,
    services: Sequence[Service],
    now: datetime,
    rules: Sequence[BurnRule] = WORKBOOK_RULES,
) -> dict[str, list[SloStatus]]:
    """Every service's SLOs assessed over its SLO window and the burn-rate rule windows."""
    windows = rule_windows(rules) | {s.slo.window for s in services}
    latency = {s.name: s.slo.latency_ms for s in services if s.slo.latency_ms is not None}
    counts = slo_counts(conn, now=now, windows=windows, latency_ms=latency)
    result: dict[str, list[SloStatus]] = {}
    for svc in services:
        have = counts.get(svc.name, ServiceCounts())
        result[svc.name] = [
            assess(name, objective, have.of(name), rules)
            for name, objective in objectives(svc).items()
        ]
    return result
