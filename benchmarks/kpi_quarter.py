"""Benchmark: the KPIs of a quarter over 1,000,000 tickets and 10,000,000 check results in the
SQLite store, against a hand-written pandas computation of the same numbers on the same file.

Goal: postdeploy at most 2x the pandas baseline's wall time, peak RSS under 1 GB.

The store is generated once (10 services, one nightly maintenance window; check results spread
over 2026-Q3; tickets created over 2026-Q2 and Q3, so the queries must pick the quarter's rows).
Each side then runs in its own fresh process, so its peak RSS (ru_maxrss) is its own:
- postdeploy: `compute_kpis` for 2026-Q3, every KPI of every service and overall (the SQL of
  postdeploy.store.kpis, plus the error budget, incidents, DORA and surveys on their empty
  tables);
- pandas: reads the columns it needs with `pandas.read_sql_query` (check results in chunks of
  1,000,000 rows, aggregated per chunk, so it stays in memory) and computes availability with
  the maintenance window taken out, first-response and resolution time (mean, median,
  nearest-rank p90) per service and priority with the roll-ups, issues resolved, SLA
  compliance and the backlog at the quarter's end.
The numbers both sides share are compared (they must agree); the sides alternate over --runs
and the table gives medians and the ratio.

    .venv/bin/python benchmarks/kpi_quarter.py --tickets 1000000 --checks 10000000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SERVICES = [f"svc{i}" for i in range(10)]
PRIORITIES = ("critical", "high", "medium", "low")
TARGETS = {"critical": (3600, 4 * 3600), "high": (4 * 3600, 24 * 3600),
           "medium": (24 * 3600, 72 * 3600), "low": (72 * 3600, 168 * 3600)}  # fmt: skip
Q3 = (datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
Q2_START = datetime(2026, 4, 1, tzinfo=UTC)
WINDOW = (7200, 10800)  # svc0's nightly maintenance, 02:00-03:00 UTC, in seconds of the day


def catalog() -> Any:
    from postdeploy.catalog import Catalog, Check, MaintenanceWindow, Service

    return Catalog(
        services=[Service(name=s, url=f"http://{s}", checks=[Check(name="h", url="/")])
                  for s in SERVICES],
        maintenance_windows=[
            MaintenanceWindow(name="nightly", services=["svc0"], start="02:00", end="03:00")
        ],
    )  # fmt: skip


def _text(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(path: Path, tickets: int, checks: int) -> None:
    from postdeploy.store.migrate import upgrade
    from postdeploy.store.services import sync_services
    from postdeploy.store.session import store_transaction

    url = f"sqlite:///{path}"
    upgrade(url)
    with store_transaction(url) as conn:
        ids = sync_services(conn, services=catalog().services)
    rng = random.Random(7)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    start, span = Q3[0].timestamp(), (Q3[1] - Q3[0]).total_seconds()
    sql = ("INSERT INTO check_result (service_id, check_name, sweep_id, ts, ok, status, latency_ms,"
           " detail) VALUES (?, 'h', ?, ?, ?, 200, ?, '')")  # fmt: skip
    chunk = 500_000
    for first in range(0, checks, chunk):
        rows = [
            (ids[SERVICES[i % 10]], f"b{i // 10}", start + rng.random() * span,
             rng.random() > 0.02, rng.random() * 300)
            for i in range(first, min(first + chunk, checks))
        ]  # fmt: skip
        db.executemany(sql, rows)
        db.commit()
    sql = ("INSERT INTO ticket (source, external_id, service, title, priority, status, level,"
           " created_at, first_response_at, resolved_at, updated_at, sla_crossed) VALUES"
           " ('bench', ?, ?, '', ?, ?, 'L1', ?, ?, ?, ?, 0)")  # fmt: skip
    t0, tspan = Q2_START.timestamp(), (Q3[1] - Q2_START).total_seconds()
    for first in range(0, tickets, chunk):
        trows: list[tuple[Any, ...]] = []
        for i in range(first, min(first + chunk, tickets)):
            created = t0 + rng.random() * tspan
            first_at = created + rng.expovariate(1 / 20000) if rng.random() < 0.9 else None
            resolved = created + rng.expovariate(1 / 200000) if rng.random() < 0.8 else None
            status = "resolved" if resolved else "open"
            trows.append((f"T{i}", rng.choice(SERVICES + [None]), rng.choice(PRIORITIES), status,
                         _text(created), first_at and _text(first_at), resolved and _text(resolved),
                         resolved and _text(resolved)))  # fmt: skip
        db.executemany(sql, trows)
        db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("ANALYZE")
    db.close()


# The two sides, each run in a fresh process -------------------------------------------------


def ours(path: Path) -> dict[str, float | None]:
    from postdeploy.domain.periods import parse_period
    from postdeploy.store.kpis import compute_kpis
    from postdeploy.store.session import store_transaction

    cat = catalog()
    with store_transaction(f"sqlite:///{path}") as conn:
        result = compute_kpis(conn, cat, parse_period("2026-Q3", cat.zone()), now=Q3[1])
    assert not result.failed, result.failed
    return {f"{k.scope}|{k.metric}": k.value.value for k in result.kpis}


def _spread(values: Any, out: dict[str, float | None], key: str, scale: float) -> None:
    n = len(values)
    if n == 0:
        for stat in ("mean", "median", "p90"):
            out[f"{key}.{stat}"] = None
        return
    ordered = values.sort_values().to_numpy()
    out[f"{key}.mean"] = float(ordered.mean()) / scale
    out[f"{key}.median"] = (
        float((ordered[(n + 1) // 2 - 1] + ordered[(n + 2) // 2 - 1]) / 2) / scale
    )
    out[f"{key}.p90"] = float(ordered[math.ceil(0.9 * n) - 1]) / scale


def baseline(path: Path) -> dict[str, float | None]:
    import pandas as pd  # type: ignore[import-untyped]

    db = sqlite3.connect(path)
    start, end = Q3[0].timestamp(), Q3[1].timestamp()
    names = dict(db.execute("SELECT id, name FROM service").fetchall())
    ok = pd.Series(0, index=list(names.values()), dtype="int64")
    total, ok_in, total_in = ok.copy(), ok.copy(), ok.copy()
    for part in pd.read_sql_query(
        "SELECT service_id, ts, ok FROM check_result WHERE ts >= ? AND ts < ?", db,
        params=(start, end), chunksize=1_000_000,
    ):  # fmt: skip
        part["service"] = part["service_id"].map(names)
        g = part.groupby("service")["ok"]
        ok = ok.add(g.sum(), fill_value=0)
        total = total.add(g.count(), fill_value=0)
        day = part["ts"] % 86400
        inside = part[(part["service"] == "svc0") & (day >= WINDOW[0]) & (day < WINDOW[1])]
        gi = inside.groupby("service")["ok"]
        ok_in = ok_in.add(gi.sum(), fill_value=0)
        total_in = total_in.add(gi.count(), fill_value=0)
    out: dict[str, float | None] = {}
    for svc in names.values():
        out[f"{svc}|availability"] = 100 * (ok[svc] - ok_in[svc]) / (total[svc] - total_in[svc])
    out["|availability"] = 100 * (ok.sum() - ok_in.sum()) / (total.sum() - total_in.sum())

    t = pd.read_sql_query(
        "SELECT service, priority, created_at, first_response_at, resolved_at FROM ticket", db
    )
    epoch = pd.Timestamp(0, tz="UTC")
    for column in ("created_at", "first_response_at", "resolved_at"):  # seconds; NaN for NULL
        t[column] = (
            pd.to_datetime(t[column], format="ISO8601", utc=True) - epoch
        ).dt.total_seconds()
    responded = t[(t["first_response_at"] >= start) & (t["first_response_at"] < end)]
    resolved = t[(t["resolved_at"] >= start) & (t["resolved_at"] < end)].copy()
    resp = responded["first_response_at"] - responded["created_at"]
    res = resolved["resolved_at"] - resolved["created_at"]
    answer = resolved[["first_response_at", "resolved_at"]].min(axis=1)
    target_r = resolved["priority"].map({p: v[0] for p, v in TARGETS.items()})
    target_s = resolved["priority"].map({p: v[1] for p, v in TARGETS.items()})
    resolved["met"] = ((answer - resolved["created_at"]) <= target_r) & (res <= target_s)
    for svc in ["", *SERVICES]:
        for priority in ["", *PRIORITIES]:

            def pick(frame: Any, svc: str = svc, priority: str = priority) -> Any:
                mask = pd.Series(True, index=frame.index)
                if svc:
                    mask &= frame["service"] == svc
                if priority:
                    mask &= frame["priority"] == priority
                return mask

            suffix = f".{priority}" if priority else ""
            _spread(resp[pick(responded)], out, f"{svc}|first_response_time{suffix}", 3600)
            _spread(res[pick(resolved)], out, f"{svc}|resolution_time{suffix}", 3600)
            met = resolved.loc[pick(resolved), "met"]
            out[f"{svc}|sla_compliance{suffix}"] = 100 * met.mean() if len(met) else None
            if not priority:
                out[f"{svc}|issues_resolved"] = float(len(met))
    backlog = t[(t["created_at"] < end) & ~(t["resolved_at"] < end)]
    for svc in ["", *SERVICES]:
        ages = end - (backlog if not svc else backlog[backlog["service"] == svc])["created_at"]
        out[f"{svc}|backlog_size"] = float(len(ages))
        _spread(ages, out, f"{svc}|backlog_age", 86400)
        out.pop(f"{svc}|backlog_age.mean")
        out[f"{svc}|backlog_age.max"] = float(ages.max()) / 86400 if len(ages) else None
    return out


def side(name: str, path: Path) -> None:
    """Run one side in this process; print its timing, peak RSS and numbers as JSON."""
    started = time.perf_counter()
    numbers = ours(path) if name == "postdeploy" else baseline(path)
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "rss": rss, "numbers": numbers}))


def run(name: str, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--side", name, "--db", str(path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def agree(a: dict[str, float | None], b: dict[str, float | None]) -> list[str]:
    bad = []
    for key, want in b.items():
        got = a.get(key)
        if (got is None) != (want is None) or (
            got is not None
            and want is not None
            and not math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-5)
        ):
            bad.append(f"{key}: postdeploy {got} pandas {want}")
    return bad


def ensure_store(path: Path, tickets: int, checks: int) -> None:
    """Generate the store at path unless it exists (--db reuses one across benchmarks)."""
    if path.exists():
        return
    started = time.perf_counter()
    generate(path, tickets, checks)
    took, size = time.perf_counter() - started, path.stat().st_size / 1e9
    print(f"generated {tickets:,} tickets and {checks:,} check results in {took:.0f} s", end="")
    print(f" ({size:.2f} GB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", type=Path, help="Reuse this generated store.")
    parser.add_argument("--side", choices=["postdeploy", "pandas"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        side(args.side, args.db)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "store.db"
        ensure_store(path, args.tickets, args.checks)
        results: dict[str, list[dict[str, Any]]] = {"postdeploy": [], "pandas": []}
        for _ in range(args.runs):
            for name in results:
                results[name].append(run(name, path))
        mismatches = agree(results["postdeploy"][0]["numbers"], results["pandas"][0]["numbers"])
        shared = len(results["pandas"][0]["numbers"])
        ours_s = statistics.median(r["seconds"] for r in results["postdeploy"])
        base_s = statistics.median(r["seconds"] for r in results["pandas"])
        ours_rss = max(r["rss"] for r in results["postdeploy"])
        base_rss = max(r["rss"] for r in results["pandas"])
        print(f"machine: {os.cpu_count()} cores; runs {args.runs}; medians")
        print("| side | seconds (median) | runs | peak RSS |\n|---|---:|---|---:|")
        for name, s, rss in (("postdeploy (SQL)", ours_s, ours_rss), ("pandas", base_s, base_rss)):
            runs = ", ".join(f"{r['seconds']:.1f}" for r in results[name.split()[0]])
            print(f"| {name} | {s:.2f} | {runs} | {rss / 2**20:,.0f} MiB |")
        print(f"ratio postdeploy / pandas: {ours_s / base_s:.2f} (goal <= 2); "
              f"{shared} shared numbers, {len(mismatches)} disagree")  # fmt: skip
        for line in mismatches[:20]:
            print("  DISAGREE", line)
        ok = not mismatches and ours_s <= 2 * base_s and ours_rss < 2**30
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
