"""Load: the health-check flow over 5,000 checks (50 services x 100) against local endpoints
that answer after 200 ms, sweep after sweep, versus its one-minute schedule.

Each sweep is a real run of the `health-check` flow on a Prefect test server (probes in
batches of POSTDEPLOY_PROBE_BATCH_SIZE, results stored, state changes, the uptime report and
the status page written), as a worker or `up` runs it. A sweep keeps up when it ends well
inside its 60 s interval; the script exits 1 when the slowest sweep takes over half of it.
The endpoints are check_sweep.py's asyncio delay server, in a process of its own.

    .venv/bin/python benchmarks/check_load.py                    # store on SQLite
    .venv/bin/python benchmarks/check_load.py --postgres         # store on PostgreSQL
    .venv/bin/python benchmarks/check_load.py --checks 500 --sweeps 2    # small
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402
from alert_burst import scratch_postgres  # noqa: E402
from check_sweep import raise_nofile_limit, start_server  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from postdeploy.store.migrate import upgrade  # noqa: E402
from postdeploy.store.schema import check_result  # noqa: E402
from postdeploy.store.session import store_transaction  # noqa: E402

INTERVAL_S = 60.0
GOAL_SHARE = 0.5  # "well inside": the slowest sweep within half its interval


def write_catalog(path: Path, port: int, checks: int, per_service: int = 100) -> str:
    services = [
        {"name": f"svc{s:03d}", "url": f"http://127.0.0.1:{port}", "tier": 2,
         "checks": [{"name": f"c{i:03d}", "url": f"/slow/{s}/{i}", "timeout": "5s"}
                    for i in range(min(per_service, checks - s * per_service))]}
        for s in range((checks + per_service - 1) // per_service)
    ]  # fmt: skip
    path.write_text(yaml.safe_dump({"version": 1, "services": services}))
    return str(path)


def sweeps(store: str, catalog: str, reports: Path, count: int) -> list[tuple[float, int, int]]:
    """(seconds, checks, failed) of each health-check run, on one Prefect test server."""
    os.environ["POSTDEPLOY_DATABASE_URL"] = store
    os.environ["POSTDEPLOY_REPORTS_DIR"] = str(reports)
    from prefect.testing.utilities import prefect_test_harness

    from flows.health_check import health_check

    out = []
    with prefect_test_harness(server_startup_timeout=180):
        for _ in range(count):
            start = time.perf_counter()
            result = health_check(catalog_path=catalog)
            out.append((time.perf_counter() - start, result["checks"], result["failed"]))
    return out


def run(args: argparse.Namespace, store: str, tmp: Path) -> int:
    upgrade(store)
    nofile = raise_nofile_limit(max(8192, 2 * args.checks))
    server, port = start_server()
    try:
        catalog = write_catalog(tmp / "catalog.yaml", port, args.checks)
        timed = sweeps(store, catalog, tmp / "reports", args.sweeps)
    finally:
        server.kill()
    with store_transaction(store) as conn:
        rows = conn.execute(select(func.count()).select_from(check_result)).scalar_one()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = [t for t, _, _ in timed]
    worst = max(seconds)
    complete = all(n == args.checks and failed == 0 for _, n, failed in timed)
    complete = complete and rows == args.checks * args.sweeps
    keeps_up = worst < INTERVAL_S * GOAL_SHARE
    backend = store.split(":", 1)[0].split("+")[0]
    print(f"store {backend}; {args.checks:,} checks, endpoints answer after 200 ms; "
          f"batch {os.environ.get('POSTDEPLOY_PROBE_BATCH_SIZE', '1000')}, "
          f"concurrency {os.environ.get('POSTDEPLOY_PROBE_CONCURRENCY', '1000')}; "
          f"RLIMIT_NOFILE {nofile}")  # fmt: skip
    print("| sweep | seconds | share of 60 s | checks | failed |\n|---:|---:|---:|---:|---:|")
    for i, (took, n, failed) in enumerate(timed, 1):
        print(f"| {i} | {took:.2f} | {took / INTERVAL_S:.0%} | {n:,} | {failed} |")
    print(f"median {statistics.median(seconds):.2f} s, slowest {worst:.2f} s "
          f"({worst / INTERVAL_S:.0%} of the interval); check_result rows {rows:,} "
          f"(expected {args.checks * args.sweeps:,}); peak RSS {rss_mb:.0f} MB "
          "(this process: flow, tasks and probes)")  # fmt: skip
    print("verdict:", "keeps up" if keeps_up and complete else "DOES NOT keep up or WRONG")
    return 0 if keeps_up and complete else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--sweeps", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="store on a scratch database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="check_load-") as folder:
        if args.postgres:
            with scratch_postgres() as store:
                return run(args, store, Path(folder))
        return run(args, f"sqlite:///{folder}/store.db", Path(folder))


if __name__ == "__main__":
    sys.exit(main())
