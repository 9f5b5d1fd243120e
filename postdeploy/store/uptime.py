"""Uptime over a window, aggregated in SQL per service, check and day."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, Integer, and_, case, cast, func, select

from postdeploy.domain.uptime import DAY, UptimeRow, percentile
from postdeploy.store.schema import check_result, service


def uptime_rows(conn: Connection, *, since: float, until: float) -> list[UptimeRow]:
    in_window = check_result.c.ts.between(since, until)
    day = cast(func.floor(check_result.c.ts / DAY), Integer).label("day")
    daily = conn.execute(
        select(
            service.c.name,
            check_result.c.check_name,
            day,
            func.sum(case((check_result.c.ok, 1), else_=0)).label("ok"),
            func.count().label("total"),
        )
        .join(service, service.c.id == check_result.c.service_id)
        .where(in_window)
        .group_by(service.c.name, check_result.c.check_name, day)
        .order_by(service.c.name, check_result.c.check_name, day)
    )
    days: dict[tuple[str, str], list[tuple[int, int, int]]] = defaultdict(list)
    for r in daily:
        days[(r.name, r.check_name)].append((int(r.day), int(r.ok), int(r.total)))

    latencies: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in conn.execute(
        select(service.c.name, check_result.c.check_name, check_result.c.latency_ms)
        .join(service, service.c.id == check_result.c.service_id)
        .where(in_window, check_result.c.ok, check_result.c.latency_ms.is_not(None))
    ):
        latencies[(r.name, r.check_name)].append(r.latency_ms)

    newest = (
        select(
            check_result.c.service_id,
            check_result.c.check_name,
            func.max(check_result.c.ts).label("ts"),
        )
        .where(in_window)
        .group_by(check_result.c.service_id, check_result.c.check_name)
        .subquery()
    )
    last: dict[tuple[str, str], tuple[bool, str]] = {
        (r.name, r.check_name): (bool(r.ok), r.detail)
        for r in conn.execute(
            select(
                service.c.name, check_result.c.check_name, check_result.c.ok, check_result.c.detail
            )
            .join(service, service.c.id == check_result.c.service_id)
            .join(
                newest,
                and_(
                    newest.c.service_id == check_result.c.service_id,
                    newest.c.check_name == check_result.c.check_name,
                    newest.c.ts == check_result.c.ts,
                ),
            )
        )
    }
    return [
        UptimeRow(
            service=key[0],
            check=key[1],
            total=sum(t for _, _, t in bars),
            ok=sum(o for _, o, _ in bars),
            avg_latency_ms=(sum(latencies[key]) / len(latencies[key])) if latencies[key] else None,
            p95_latency_ms=percentile(latencies[key], 95),
            last_ok=last.get(key, (None, ""))[0],
            last_detail=last.get(key, (None, ""))[1],
            days=tuple(bars),
        )
        for key, bars in days.items()
    ]


DEMO_PREFIX = "demo-"


def has_demo_data(conn: Connection, *, since: float, until: float) -> bool:
    """Demo history is stored under sweep ids starting with 'demo-' so reports can say so."""
    query = (
        select(check_result.c.id)
        .where(check_result.c.ts.between(since, until))
        .where(check_result.c.sweep_id.startswith(DEMO_PREFIX))
        .limit(1)
    )
    return conn.execute(query).first() is not None
