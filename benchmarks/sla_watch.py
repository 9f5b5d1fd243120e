"""Benchmark: one SLA sweep over 100,000 open tickets in a SQLite store.

Goal: `sla_sweep` (what the sla-watch flow runs) under 5 s.

The script migrates a fresh SQLite store in a temporary folder and imports 100,000 open
tickets through `upsert_tickets`: the four priorities, created over the 10 days before `now`,
statuses new / open / in_progress / waiting, half of them with two recorded status changes
(new -> in_progress, and for every fourth ticket -> waiting). It then times, each in its own
transaction with the commit: the first sweep at `now` (it escalates the tickets past 75% of a
target), the same sweep again (it must change nothing), and a sweep an hour later. Business
hours are off; `--business-hours` evaluates on Monday-Friday 09:00-17:00 UTC instead.

    .venv/bin/python benchmarks/sla_watch.py --tickets 100000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from postdeploy.domain.sla import BusinessHours
from postdeploy.domain.tickets import StatusChange, Ticket
from postdeploy.store.migrate import upgrade
from postdeploy.store.session import store_transaction
from postdeploy.store.tickets import SweepResult, sla_sweep, upsert_tickets

GOAL_S = 5.0
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
PRIORITIES = ["critical", "high", "medium", "low"]
STATUSES = ["new", "open", "in_progress", "waiting"]


def tickets(count: int) -> list[Ticket]:
    out = []
    span = 10 * 86400
    for i in range(count):
        created = NOW - timedelta(seconds=(i * 7919) % span)
        changes: tuple[StatusChange, ...] = ()
        status = STATUSES[i % 4]
        if i % 2 == 0:
            status = "waiting" if i % 4 == 0 else "in_progress"
            changes = (StatusChange(created + timedelta(minutes=20), "in_progress", "new"),)
            if status == "waiting":
                changes += (StatusChange(created + timedelta(hours=2), "waiting", "in_progress"),)
        out.append(
            Ticket("bench", f"T{i:07d}", PRIORITIES[i % 4], status, created, f"ticket {i}",
                   changes=changes)
        )  # fmt: skip
    return out


def timed_sweep(
    url: str, now: datetime, calendar: BusinessHours | None
) -> tuple[float, SweepResult]:
    start = time.perf_counter()
    with store_transaction(url) as conn:
        result = sla_sweep(conn, now=now, calendar=calendar)
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--business-hours", action="store_true")
    args = parser.parse_args()
    calendar = BusinessHours() if args.business_hours else None
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.db'}"
        upgrade(url)
        with store_transaction(url) as conn:
            counts = upsert_tickets(conn, tickets(args.tickets))
        runs = [
            ("first sweep", *timed_sweep(url, NOW, calendar)),
            ("same sweep again", *timed_sweep(url, NOW, calendar)),
            ("an hour later", *timed_sweep(url, NOW + timedelta(hours=1), calendar)),
        ]
    print(f"{counts.inserted:,} open tickets, {counts.events:,} status changes; "
          f"business hours {'on' if calendar else 'off'}; "
          f"load average {os.getloadavg()[0]:.2f}\n")  # fmt: skip
    print("| sweep | seconds | open | near breach | breached | escalated |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, seconds, r in runs:
        print(f"| {name} | {seconds:.2f} | {r.open:,} | {r.near_breach:,} | {r.breached:,} "
              f"| {len(r.escalations):,} |")  # fmt: skip
    met = all(seconds < GOAL_S for _, seconds, _ in runs) and not runs[1][2].escalations
    print(f"\ngoal (every sweep < {GOAL_S:.0f} s, a rerun changes nothing): "
          f"{'met' if met else 'MISSED'}")  # fmt: skip
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
