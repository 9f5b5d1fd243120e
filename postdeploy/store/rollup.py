"""check_daily: per service, check and UTC day counts and a latency histogram, kept on write.

record_sweep adds the results it actually inserted (a re-recorded sweep adds nothing), in
the same transaction, with one batched upsert; readers of long windows (the uptime report,
the status page's daily bars) read these rows instead of every check_result."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from postdeploy.domain.uptime import DAY, LATENCY_BOUNDS, latency_bucket
from postdeploy.store.schema import LATENCY_COLUMNS, check_daily, check_result

DEMO_PREFIX = "demo-"
KEYS = ("service_id", "check_name", "day")
SUMMED = ("ok", "total", "demo", "latency_n", "latency_sum", *LATENCY_COLUMNS)


def _empty(service_id: int, check_name: str, day: int) -> dict[str, Any]:
    row: dict[str, Any] = {"service_id": service_id, "check_name": check_name, "day": day}
    row.update(dict.fromkeys(SUMMED, 0))
    row["latency_sum"] = 0.0
    row["latency_min"] = row["latency_max"] = None
    return row


def daily_rows(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Fold check_result rows (service_id, check_name, sweep_id, ts, ok, latency_ms) into
    check_daily increments, sorted by key (concurrent upserts lock rows in one order)."""
    found: dict[tuple[int, str, int], dict[str, Any]] = {}
    for r in results:
        key = (int(r["service_id"]), str(r["check_name"]), int(r["ts"] // DAY))
        row = found.get(key)
        if row is None:
            row = found[key] = _empty(*key)
        row["total"] += 1
        row["demo"] += str(r["sweep_id"]).startswith(DEMO_PREFIX)
        if not r["ok"]:
            continue
        row["ok"] += 1
        latency = r["latency_ms"]
        if latency is None:
            continue
        row["latency_n"] += 1
        row["latency_sum"] += latency
        row[LATENCY_COLUMNS[latency_bucket(latency)]] += 1
        low, high = row["latency_min"], row["latency_max"]
        row["latency_min"] = latency if low is None else min(low, latency)
        row["latency_max"] = latency if high is None else max(high, latency)
    return [found[k] for k in sorted(found)]


def add_daily(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """One batched upsert adding `rows` to check_daily (counts add up, min/max widen)."""
    if not rows:
        return
    dialect = conn.dialect.name
    least: Any
    greatest: Any
    if dialect == "sqlite":
        stmt: Any = sqlite.insert(check_daily)
        least, greatest = func.min, func.max
    elif dialect == "postgresql":
        stmt = postgresql.insert(check_daily)
        least, greatest = func.least, func.greatest
    else:
        raise NotImplementedError(f"check_daily upsert on {dialect}")
    new = stmt.excluded
    old = check_daily.c
    set_: dict[str, Any] = {c: old[c] + new[c] for c in SUMMED}
    # SQLite's two-argument min/max return NULL if either side is NULL: coalesce both sides
    for name, pick in (("latency_min", least), ("latency_max", greatest)):
        set_[name] = pick(func.coalesce(old[name], new[name]), func.coalesce(new[name], old[name]))
    conn.execute(stmt.on_conflict_do_update(index_elements=list(KEYS), set_=set_), rows)


def _bucket(latency: ColumnElement[Any]) -> ColumnElement[int]:
    return case(
        *((latency <= bound, literal(i)) for i, bound in enumerate(LATENCY_BOUNDS)),
        else_=literal(len(LATENCY_BOUNDS)),
    )


def aggregate_results(where: ColumnElement[bool] | None = None) -> Select[Any]:
    """check_daily's rows computed from check_result in SQL (what the rollup must equal)."""
    r = check_result.c
    timed = and_(r.ok, r.latency_ms.is_not(None))
    inner = select(
        r.service_id,
        r.check_name,
        cast(func.floor(r.ts / DAY), Integer).label("day"),
        case((r.ok, 1), else_=0).label("ok"),
        case((r.sweep_id.startswith(DEMO_PREFIX), 1), else_=0).label("demo"),
        case((timed, 1), else_=0).label("timed"),
        case((timed, r.latency_ms), else_=None).label("latency"),
        case((timed, _bucket(r.latency_ms)), else_=None).label("bucket"),
    )
    if where is not None:
        inner = inner.where(where)
    s = inner.subquery()
    return select(
        s.c.service_id,
        s.c.check_name,
        s.c.day,
        func.sum(s.c.ok).label("ok"),
        func.count().label("total"),
        func.sum(s.c.demo).label("demo"),
        func.sum(s.c.timed).label("latency_n"),
        func.coalesce(func.sum(s.c.latency), 0.0).label("latency_sum"),
        func.min(s.c.latency).label("latency_min"),
        func.max(s.c.latency).label("latency_max"),
        *(
            func.sum(case((s.c.bucket == i, 1), else_=0)).label(name)
            for i, name in enumerate(LATENCY_COLUMNS)
        ),
    ).group_by(s.c.service_id, s.c.check_name, s.c.day)


def rebuild_daily(conn: Connection) -> int:
    """Recompute check_daily from check_result in SQL, for results loaded in bulk
    (not through record_sweep). Returns the number of rollup rows."""
    conn.execute(delete(check_daily))
    query = aggregate_results()
    names = [c.name for c in query.selected_columns]
    conn.execute(insert(check_daily).from_select(names, query))
    return int(conn.execute(select(func.count()).select_from(check_daily)).scalar_one())
