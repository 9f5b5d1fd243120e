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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass
class Sweep:
    seconds: float
    checks: int
    failed: int
    tasks: dict[str, float]


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


def task_seconds(flow_run_id: str) -> dict[str, float]:
    """Seconds per task name in one flow run (probe batches summed), from the Prefect API."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async def read() -> list[Any]:
        async with get_client() as client:
            flt = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            return list(await client.read_task_runs(flow_run_filter=flt))

    out: dict[str, float] = {}
    for run in asyncio.run(read()):
        name = "probe" if run.name.startswith("probe") else run.name.rsplit("-", 1)[0]
        out[name] = out.get(name, 0.0) + run.total_run_time.total_seconds()
    return out


def sweeps(store: str, catalog: str, reports: Path, count: int) -> list[Sweep]:
    """Each health-check run on one Prefect test server: seconds, result, task breakdown."""
    os.environ["POSTDEPLOY_DATABASE_URL"] = store
    os.environ["POSTDEPLOY_REPORTS_DIR"] = str(reports)
    from prefect.testing.utilities import prefect_test_harness

    from flows.health_check import health_check

    out = []
    with prefect_test_harness(server_startup_timeout=180):
        for _ in range(count):
            start = time.perf_counter()
            state = health_check(catalog_path=catalog, return_state=True)
            took = time.perf_counter() - start
            result = state.result()
            tasks = task_seconds(str(state.state_details.flow_run_id))
            out.append(Sweep(took, result["checks"], result["failed"], tasks))
    return out


def seed_history(store: str, catalog: str, hours: float) -> int:
    """One stored result per check per minute for the past `hours`, as earlier sweeps leave
    them: the uptime report reads the whole 30-day window every sweep."""
    from sqlalchemy import insert

    from postdeploy.catalog import load_catalog
    from postdeploy.store.rollup import rebuild_daily
    from postdeploy.store.services import sync_services

    cat = load_catalog(catalog)
    now = time.time()
    minutes = int(hours * 60)
    with store_transaction(store) as conn:
        ids = sync_services(conn, services=cat.services)
        pairs = [(ids[s.name], c.name) for s in cat.services for c in s.checks]
        for m in range(minutes, 0, -1):
            ts = now - m * 60
            conn.execute(
                insert(check_result),
                [{"service_id": sid, "check_name": name, "sweep_id": f"seed-{m}", "ts": ts,
                  "ok": True, "status": 200, "latency_ms": 200.0 + (m % 7), "detail": "HTTP 200"}
                 for sid, name in pairs],
            )  # fmt: skip
        rebuild_daily(conn)  # as record_sweep would have kept check_daily for these sweeps
    return minutes * len(pairs)


def failure_reasons(store: str) -> list[tuple[str, int]]:
    with store_transaction(store) as conn:
        rows = conn.execute(
            select(check_result.c.detail, func.count())
            .where(check_result.c.ok.is_(False))
            .group_by(check_result.c.detail)
            .order_by(func.count().desc())
            .limit(5)
        ).all()
    return [(str(detail)[:80], int(n)) for detail, n in rows]


def run(args: argparse.Namespace, store: str, tmp: Path) -> int:
    upgrade(store)
    nofile = raise_nofile_limit(max(8192, 2 * args.checks))
    server, port = start_server()
    try:
        catalog = write_catalog(tmp / "catalog.yaml", port, args.checks)
        seeded = seed_history(store, catalog, args.history_hours) if args.history_hours else 0
        timed = sweeps(store, catalog, tmp / "reports", args.sweeps)
    finally:
        server.kill()
    with store_transaction(store) as conn:
        rows = conn.execute(select(func.count()).select_from(check_result)).scalar_one()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = [t.seconds for t in timed]
    worst = max(seconds)
    complete = all(t.checks == args.checks and t.failed == 0 for t in timed)
    complete = complete and rows == args.checks * args.sweeps + seeded
    keeps_up = worst < INTERVAL_S * GOAL_SHARE
    backend = store.split(":", 1)[0].split("+")[0]
    print(f"store {backend}; {args.checks:,} checks, endpoints answer after 200 ms; "
          f"batch {os.environ.get('POSTDEPLOY_PROBE_BATCH_SIZE', '1000')}, "
          f"concurrency {os.environ.get('POSTDEPLOY_PROBE_CONCURRENCY', '1000')}; "
          f"RLIMIT_NOFILE {nofile}")  # fmt: skip
    names = sorted({n for t in timed for n in t.tasks})
    print(
        "| sweep | seconds | share of 60 s | checks | failed | "
        + " | ".join(f"{n} s" for n in names)
        + " |"
    )
    print("|---:|---:|---:|---:|---:|" + "---:|" * len(names))
    for i, t in enumerate(timed, 1):
        cells = " | ".join(f"{t.tasks.get(n, 0):.2f}" for n in names)
        print(
            f"| {i} | {t.seconds:.2f} | {t.seconds / INTERVAL_S:.0%} | {t.checks:,} | "
            f"{t.failed} | {cells} |"
        )
    print("(probe: the batch tasks' run times summed; they run at once)")
    print(f"median {statistics.median(seconds):.2f} s, slowest {worst:.2f} s "
          f"({worst / INTERVAL_S:.0%} of the interval); check_result rows {rows:,} "
          f"(expected {args.checks * args.sweeps + seeded:,}, {seeded:,} of them seeded "
          f"history); peak RSS {rss_mb:.0f} MB "
          "(this process: flow, tasks and probes)")  # fmt: skip
    for detail, n in failure_reasons(store):
        print(f"failed {n:,}: {detail}")
    print("verdict:", "keeps up" if keeps_up and complete else "DOES NOT keep up or WRONG")
    return 0 if keeps_up and complete else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--sweeps", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="store on a scratch database")
    parser.add_argument(
        "--history-hours", type=float, default=0, help="stored results of earlier sweeps first"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="check_load-") as folder:
        if args.postgres:
            with scratch_postgres() as store:
                return run(args, store, Path(folder))
        return run(args, f"sqlite:///{folder}/store.db", Path(folder))


if __name__ == "__main__":
    sys.exit(main())
