"""Benchmark: import 1,000,000 ticket rows from a CSV export into a fresh SQLite store, then
import the same file again, and compare with raw sqlite3 executemany of the same rows.

Goal: 50,000 rows/s or more for the import, and the re-import at least as fast.

The script writes a ServiceNow-style CSV export (10 columns, 4 priorities, 5 states, 40% with
a resolution time) and its mapping into a temporary folder. Each run migrates a fresh SQLite
store and times exactly what `postdeploy import tickets FILE --mapping MAP.yaml` does (one
transaction, `open_export` + `upsert_tickets`, commit included), first into the empty store,
then again with the same file. The baseline inserts the rows that import stored, read back as
tuples beforehand, into an equivalent table (the same DDL and indexes, in a fresh file with the
store's PRAGMAs) with sqlite3 `executemany` in chunks of 10,000 in one transaction: the floor
the database sets. The three are interleaved per run, so that load from elsewhere on a shared
machine hits them alike; the table shows medians over the runs and every run's rate. Exit 1
when a goal is missed (on the medians).

    .venv/bin/python benchmarks/ticket_import.py --rows 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.schema import CreateIndex, CreateTable

from postdeploy.adapters.importers.mapping import load_mapping
from postdeploy.adapters.importers.tickets import open_export
from postdeploy.store.engine import make_engine
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import ticket
from postdeploy.store.session import store_transaction
from postdeploy.store.tickets import ImportCounts, upsert_tickets

GOAL = 50_000
MAPPING = """\
source: servicenow
timestamp_format: "%Y-%m-%d %H:%M:%S"
fields:
  external_id: number
  title: short_description
  service: cmdb_ci
  category: category
  assignee: assigned_to
  priority:
    column: priority
    values: {"1 - Critical": critical, "2 - High": high, "3 - Moderate": medium, "4 - Low": low}
  status:
    column: state
    values: {New: new, In Progress: in_progress, On Hold: waiting, Resolved: resolved,
             Closed: closed}
  created_at: opened_at
  resolved_at: resolved_at
  updated_at: sys_updated_on
"""
HEADER = ["number", "short_description", "cmdb_ci", "category", "assigned_to", "priority",
          "state", "opened_at", "resolved_at", "sys_updated_on"]  # fmt: skip
PRIORITIES = ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low"]
STATES = ["New", "In Progress", "On Hold", "Resolved", "Closed"]
SERVICES = ["api", "web", "billing", "search", "auth"]


def write_export(path: Path, rows: int) -> None:
    start, fmt = datetime(2026, 1, 1), "%Y-%m-%d %H:%M:%S"
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(HEADER)
        for i in range(rows):
            opened = start + timedelta(seconds=i * 3)
            state = STATES[i % 5]
            resolved = (opened + timedelta(hours=5)).strftime(fmt) if i % 5 >= 3 else ""
            out.writerow([
                f"INC{i:08d}", f"Users cannot sign in ({i})", SERVICES[i % 5], "access",
                f"agent{i % 97}", PRIORITIES[i % 4], state, opened.strftime(fmt), resolved,
                (opened + timedelta(minutes=30)).strftime(fmt),
            ])  # fmt: skip


def timed_import(url: str, export: Path, mapping: Path) -> tuple[float, float, ImportCounts, int]:
    start, cpu = time.perf_counter(), time.process_time()
    with store_transaction(url) as conn, open_export(export, load_mapping(mapping)) as reader:
        counts = upsert_tickets(conn, reader)
    return time.perf_counter() - start, time.process_time() - cpu, counts, reader.read


def raw_baseline(store: Path, target: Path) -> tuple[float, float, int]:
    """sqlite3 executemany of the stored rows into an equivalent table in a fresh file."""
    names = [c.name for c in ticket.columns if c.name != "id"]
    with sqlite3.connect(store) as src:
        rows = src.execute(f"SELECT {', '.join(names)} FROM ticket ORDER BY id").fetchall()
    dialect = make_engine("sqlite://").dialect
    db = sqlite3.connect(target)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(str(CreateTable(ticket).compile(dialect=dialect)))
    for index in ticket.indexes:
        db.execute(str(CreateIndex(index).compile(dialect=dialect)))
    sql = f"INSERT INTO ticket ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    start, cpu = time.perf_counter(), time.process_time()
    with db:
        for i in range(0, len(rows), 10_000):
            db.executemany(sql, rows[i : i + 10_000])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    db.close()
    return elapsed, cpu, len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="Fresh stores; medians reported.")
    args = parser.parse_args()
    steps: dict[str, list[tuple[float, float]]] = {"import": [], "re-import": [], "raw": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export, mapping = folder / "incidents.csv", folder / "sn.yaml"
        mapping.write_text(MAPPING, encoding="utf-8")
        write_export(export, args.rows)
        size_mb = export.stat().st_size / 1e6
        for run in range(args.runs):  # interleaved, so that load from elsewhere hits all three
            store = folder / f"store{run}.db"
            url = f"sqlite:///{store}"
            upgrade(url)
            wall, cpu, counts, read = timed_import(url, export, mapping)
            assert counts.inserted == read == args.rows, counts
            steps["import"].append((wall, cpu))
            wall, cpu, counts, read = timed_import(url, export, mapping)
            assert counts.inserted == 0 and counts.unchanged == read == args.rows, counts
            steps["re-import"].append((wall, cpu))
            wall, cpu, _ = raw_baseline(store, folder / f"raw{run}.db")
            steps["raw"].append((wall, cpu))
            store.unlink()
            (folder / f"raw{run}.db").unlink()
    median = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
              for k, v in steps.items()}  # fmt: skip
    rate = {k: args.rows / wall for k, (wall, _) in median.items()}
    print(f"{args.rows:,} rows, CSV {size_mb:.0f} MB, {args.runs} runs (medians); "
          f"load average {os.getloadavg()[0]:.2f}\n")  # fmt: skip
    print("| step | wall s | CPU s | rows/s (wall) | vs raw executemany | all runs, rows/s |")
    print("|---|---:|---:|---:|---:|---|")
    for step, label in (("import", "import (fresh store)"), ("re-import", "re-import (same file)"),
                        ("raw", "raw sqlite3 executemany")):  # fmt: skip
        wall, cpu = median[step]
        runs = ", ".join(f"{args.rows / w:,.0f}" for w, _ in steps[step])
        print(f"| {label} | {wall:.2f} | {cpu:.2f} | {rate[step]:,.0f} "
              f"| {rate[step] / rate['raw']:.2f} | {runs} |")  # fmt: skip
    print(f"\nre-import / import speed: {rate['re-import'] / rate['import']:.2f}")
    met = rate["import"] >= GOAL and rate["re-import"] >= rate["import"]
    print(f"goal (>= {GOAL:,} rows/s, re-import at least as fast): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
