"""Benchmark: the data-quality gate (data/expectations, every suite) over a quarter of the KPI
benchmark's SQLite store: check results spread over 2026-Q3, tickets created over Q2 and Q3
(benchmarks/kpi_quarter.py generates it; pass --db to reuse one).

Each run is a fresh process, so it pays the Great Expectations import (reported apart) and
its peak RSS is its own. The expectations run as SQL where the rows are; nothing is loaded
into pandas. Reported: import seconds, gate seconds (median of --runs), seconds and rows per
suite, peak RSS, and the CPU seconds of the process (SQLite runs in it), which a busy machine
inflates less than wall time.

    .venv/bin/python benchmarks/quality_gate.py                                  # 1M + 1M
    .venv/bin/python benchmarks/quality_gate.py --checks 10000000 --runs 3       # KPI-sized
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kpi_quarter import Q3, ensure_store  # noqa: E402


def side(path: Path) -> None:
    """One gate run in this process; its timings as JSON on the last line."""
    from postdeploy.adapters.quality import _great_expectations, run_gate

    started = time.perf_counter()
    _great_expectations()
    imported = time.perf_counter() - started
    began, cpu = time.perf_counter(), time.process_time()
    report = run_gate(f"sqlite:///{path}", *Q3, label="2026-Q3")
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    suites = {s.name: [round(s.seconds, 2), s.rows, s.status] for s in report.suites}
    print(json.dumps({"import": imported, "seconds": seconds, "cpu": cpu, "rss": rss,
                      "suites": suites, "passed": report.passed}))  # fmt: skip


def run(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--side", "--db", str(path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", type=Path, help="Reuse this generated store.")
    parser.add_argument("--side", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        side(args.db)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "store.db"
        ensure_store(path, args.tickets, args.checks)
        runs = [run(path) for _ in range(args.runs)]
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
              f"{args.runs} runs, medians")  # fmt: skip
        print("| | seconds |\n|---|---:|")
        for key, name in (("import", "import great_expectations"), ("seconds", "gate (wall)"),
                          ("cpu", "gate (CPU of the process)")):  # fmt: skip
            print(f"| {name} | {statistics.median(r[key] for r in runs):.2f} |")
        print("\n| suite | rows | status | seconds (median) |\n|---|---:|---|---:|")
        for name, (_, rows, status) in runs[0]["suites"].items():
            seconds = statistics.median(r["suites"][name][0] for r in runs)
            print(f"| {name} | {rows:,} | {status} | {seconds:.2f} |")
        print(f"\npeak RSS {max(r['rss'] for r in runs) / 2**20:,.0f} MiB; "
              f"passed: {runs[0]['passed']}")  # fmt: skip
        return 0


if __name__ == "__main__":
    sys.exit(main())
