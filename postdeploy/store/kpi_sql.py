"""SQL for the KPIs: seconds between two stored times, and the count, mean, median, nearest-rank
p90 and max of durations per group, computed inside the database with window functions so that
only one row per group leaves it (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, case, func, literal, or_, select, union_all

from postdeploy.domain.kpi import Aggregate

ALL = ""  # the value a rolled-up group column takes: every service, every priority


def seconds_between(dialect: str, later: Any, earlier: Any) -> Any:
    """later - earlier in seconds, for UTCDateTime columns (naive UTC in the store)."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def rolled_up(
    base: Select[Any], groups: Sequence[tuple[str, Any]], value: Any, sets: Sequence[set[str]]
) -> Select[Any]:
    """UNION ALL of `base` once per grouping set: the set's group columns keep their value, the
    others read ALL; rows whose kept group value is NULL are left out of that set. Columns are
    labelled g0..gN and v."""
    parts = []
    for keep in sets:
        columns = [
            (expr if name in keep else literal(ALL)).label(f"g{i}")
            for i, (name, expr) in enumerate(groups)
        ]
        not_null = [expr.is_not(None) for name, expr in groups if name in keep]
        parts.append(base.with_only_columns(*columns, value.label("v")).where(*not_null))
    return parts[0] if len(parts) == 1 else union_all(*parts)  # type: ignore[return-value]


def aggregate(
    conn: Connection, source: Select[Any], width: int
) -> dict[tuple[str, ...], Aggregate]:
    """Aggregate per (g0..g{width-1}) of a `rolled_up` source; groups without rows are absent."""
    src = source.subquery("src")
    keys = [src.c[f"g{i}"] for i in range(width)]
    ranked = select(
        *keys,
        src.c.v,
        func.row_number().over(partition_by=keys, order_by=src.c.v).label("rn"),
        func.count().over(partition_by=keys).label("n"),
    ).subquery("ranked")
    rk = [ranked.c[f"g{i}"] for i in range(width)]
    rn, n, v = ranked.c.rn, ranked.c.n, ranked.c.v
    middle = or_(rn == (n + 1) // 2, rn == (n + 2) // 2)
    rows = conn.execute(
        select(
            *rk,
            func.max(n).label("n"),
            func.avg(v).label("mean"),
            func.avg(case((middle, v))).label("median"),
            func.max(case((rn == (9 * n + 9) // 10, v))).label("p90"),
            func.max(v).label("max"),
        ).group_by(*rk)
    )
    return {
        tuple(str(x) for x in row[:width]): Aggregate(
            int(row.n), float(row.mean), float(row.median), float(row.p90), float(row.max)
        )
        for row in rows
    }


def summed(
    conn: Connection, source: Select[Any], width: int
) -> dict[tuple[str, ...], tuple[int, int]]:
    """(COUNT(*), SUM(v)) per group of a `rolled_up` source whose v is 0 or 1."""
    src = source.subquery("src")
    keys = [src.c[f"g{i}"] for i in range(width)]
    rows = conn.execute(select(*keys, func.count(), func.sum(src.c.v)).group_by(*keys))
    return {
        tuple(str(x) for x in row[:width]): (int(row[width]), int(row[width + 1] or 0))
        for row in rows
    }


def counted(conn: Connection, source: Select[Any], width: int) -> dict[tuple[str, ...], int]:
    """COUNT(*) per group of a `rolled_up` source."""
    return {key: n for key, (n, _) in summed(conn, source, width).items()}
