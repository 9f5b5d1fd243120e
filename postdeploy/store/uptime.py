"""Uptime over a window per service, check and day, read from the check_daily rollup."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, exists, func, select

from postdeploy.domain.uptime import DAY, UptimeRow, histogram_percentile
from postdeploy.store.rollup import DEMO_PREFIX
from postdeploy.store.schema import LATENCY_COLUMNS, check_daily, check_result, service

__all__ = ["DEMO_PREFIX", "has_demo_data", "uptime_rows"]


def _days(since: float, until: float) -> tuple[int, int]:
    return int(since // DAY), int(until // DAY)


def uptime_rows(conn: Connection, *, since: float, until: float) -> list[UptimeRow]:
    """Per check: ok/total per UTC day, average and p95 latency of ok results, and the newest
    result in the window. Reads check_daily (one row per check and day), so the cost grows
    with checks x days, not with stored results.

    Whole UTC days: the days holding `since` and `until` count in full. The average latency
    is exact; the p95 comes from the merged latency histogram: the upper bound of the bucket
    holding the nearest-rank p95, clamped to the slowest latency seen, so it is never below
    the exact p95 and at most 19% (one quarter-octave bucket, 2^(1/4)) above it; under 1 ms
    at most 1 ms above; over 32,768 ms the slowest latency seen."""
    first, last = _days(since, until)
    d = check_daily.c
    window = d.day.between(first, last)
    days: dict[tuple[str, str], list[tuple[int, int, int]]] = defaultdict(list)
    for name, check, day, ok, total in conn.execute(
        select(service.c.name, d.check_name, d.day, d.ok, d.total)
        .join(service, service.c.id == d.service_id)
        .where(window)
        .order_by(service.c.name, d.check_name, d.day)
    ):
        days[(name, check)].append((day, ok, total))
    # latency: the window's days merged in SQL, one row per check
    latency: dict[tuple[str, str], tuple[int, float, float | None]] = {}
    for r in conn.execute(
        select(
            service.c.name,
            d.check_name,
            func.sum(d.latency_n),
            func.sum(d.latency_sum),
            func.min(d.latency_min),
            func.max(d.latency_max),
            *(func.sum(d[name]) for name in LATENCY_COLUMNS),
        )
        .join(service, service.c.id == d.service_id)
        .where(window, d.latency_n > 0)
        .group_by(service.c.name, d.check_name)
    ):
        values = tuple(r)
        counts = [int(c) for c in values[6:]]
        lowest, highest = float(values[4]), float(values[5])
        p95 = histogram_percentile(counts, 95, lowest=lowest, highest=highest)
        latency[(values[0], values[1])] = (int(values[2]), float(values[3]), p95)

    # the newest result per check: one index seek each (ix_check_result_service_ts)
    rc = check_result.c
    one = check_result.alias("one")
    keys = (
        select(d.service_id, d.check_name)
        .where(window)
        .group_by(d.service_id, d.check_name)
        .subquery()
    )
    last_rows = conn.execute(
        select(service.c.name, rc.check_name, rc.ok, rc.detail)
        .select_from(keys)
        .join(
            check_result,
            rc.id
            == select(one.c.id)
            .where(
                one.c.service_id == keys.c.service_id,
                one.c.check_name == keys.c.check_name,
                one.c.ts.between(since, until),
            )
            .order_by(one.c.ts.desc())
            .limit(1)
            .correlate(keys)
            .scalar_subquery(),
        )
        .join(service, service.c.id == rc.service_id)
    )
    found: dict[tuple[str, str], tuple[bool, str]] = {
        (x.name, x.check_name): (bool(x.ok), x.detail) for x in last_rows
    }
    return [
        UptimeRow(
            service=key[0],
            check=key[1],
            total=sum(t for _, _, t in bars),
            ok=sum(o for _, o, _ in bars),
            avg_latency_ms=latency[key][1] / latency[key][0] if key in latency else None,
            p95_latency_ms=latency[key][2] if key in latency else None,
            last_ok=found.get(key, (None, ""))[0],
            last_detail=found.get(key, (None, ""))[1],
            days=tuple(bars),
        )
        for key, bars in days.items()
    ]


def has_demo_data(conn: Connection, *, since: float, until: float) -> bool:
    """Demo history is stored under sweep ids starting with 'demo-' so reports can say so;
    check_daily counts them per day, so this reads the window's rollup rows (whole days)."""
    first, last = _days(since, until)
    query = select(exists().where(check_daily.c.day.between(first, last), check_daily.c.demo > 0))
    return bool(conn.execute(query).scalar())
