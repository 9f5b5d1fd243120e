"""`postdeploy demo`: seed labelled demo history, run every served flow once against a temporary
Prefect server, write reports/ and print a summary."""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from postdeploy.catalog import Catalog, load_catalog
from postdeploy.demo_activity import (
    demo_disk,
    demo_incidents,
    demo_open_tickets,
    demo_surveys,
    store_incidents,
)
from postdeploy.domain.checks import CheckOutcome
from postdeploy.domain.kb import demo_resolved_tickets
from postdeploy.sample_service import make_server
from postdeploy.settings import get_settings
from postdeploy.store.checks import record_sweeps
from postdeploy.store.deployments import record_deployment
from postdeploy.store.metrics import Sample, record_samples
from postdeploy.store.services import sync_services
from postdeploy.store.session import store_transaction
from postdeploy.store.surveys import upsert_responses
from postdeploy.store.tickets import upsert_tickets
from postdeploy.store.uptime import DEMO_PREFIX

STEP = 300  # one demo sweep every five minutes
REGRESSION_AGO = 3 * 86400 + 7200  # demo deploy 1.4.1 made the service slower, 3 days ago

# Flows that need parameters, with what the demo passes; every other flow runs once as is.
# The calendar's parts run inside daily/weekly/quarterly maintenance, not again on their own.
DEMO_RUNS: dict[str, list[dict[str, Any]]] = {
    **{part: [] for part in ("log-review", "performance-review", "security-scan")},
    "knowledge-base": [],
    **{part: [] for part in ("update-review", "dr-drill")},
    "capacity-planning": [],  # inside monthly-maintenance
    "incident-response": [
        {
            "service": "sample",
            "severity": "high",
            "summary": "Demo drill: orders API errors",
            "commander": "demo",
            "auto_approve": True,
            "healthy_minutes": 0,
            "monitor_timeout_minutes": 0.2,
            "poll_s": 1,
        }
    ],
    "post-deploy-check": [
        {"service": "sample", "version": "1.4.2", "commit": "4f2c9e1", "canary_window_s": 4},
        {"service": "legacy-billing", "version": "0.9.0", "canary_window_s": 2},
    ],
}


def report_runs(cat: Catalog, demo_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The analysts' reports the calendar would not write yet from 30 days of history: the
    KPIs of this month and quarter so far (the calendar reports the last complete ones), and
    the bundled survey export imported (its answers are of October 2026)."""
    from postdeploy.domain.periods import period_of

    now, tz = datetime.now(UTC), cat.zone()
    root = Path(__file__).parents[1]
    export = {
        "file": str(root / "data" / "surveys" / "typeform-2026-10.csv"),
        "mapping": str(root / "data" / "mappings" / "typeform-survey.yaml"),
        "source": "demo-typeform",
        "quarantine": str(demo_dir / "typeform-2026-10.rejected.csv"),
    }
    return {
        "kpi-report": [
            {"kind": "monthly", "period": period_of("month", now, tz).label},
            {"kind": "quarterly", "period": period_of("quarter", now, tz).label},
        ],
        "survey-processing": [
            {"period": period_of("month", now, tz).label},
            {"period": "2026-10", "exports": [export]},
        ],
    }


def demo_history(
    cat: Catalog, *, days: int, now: float, seed: int = 7
) -> Iterator[tuple[str, list[CheckOutcome]]]:
    """Plausible history: diurnal latency, rare blips, and one real outage per service."""
    rng = random.Random(seed)
    specs = cat.probe_specs()
    start = int((now - days * 86400) // STEP * STEP)
    outages = {s.name: start + rng.randint(3, days - 3) * 86400 + 14 * 3600 for s in cat.services}
    for ts in range(start, int(now) - STEP, STEP):
        hour = (ts % 86400) / 3600
        load = 1 + 0.6 * math.sin((hour - 8) / 24 * 2 * math.pi)
        outcomes = []
        for spec in specs:
            down = 0 <= ts - outages[spec.service] < 45 * 60 and spec.check != "metrics"
            blip = rng.random() < 0.0003
            if down or blip:
                outcomes.append(
                    CheckOutcome(
                        spec.service,
                        spec.check,
                        False,
                        float(ts),
                        5000.0,
                        None,
                        "timeout after 5s (ReadTimeout)" if down else "HTTP 502, expected 200",
                    )
                )
            else:
                latency = rng.lognormvariate(math.log(25 * load), 0.35)
                outcomes.append(
                    CheckOutcome(
                        spec.service, spec.check, True, float(ts), latency, 200, "HTTP 200"
                    )
                )
        yield f"{DEMO_PREFIX}{ts}", outcomes


def demo_metrics(cat: Catalog, *, days: int, now: float, seed: int = 11) -> list[Sample]:
    """Standard series with a daily cycle, slow growth in memory and one latency incident."""
    rng = random.Random(seed)
    start = int((now - days * 86400) // STEP * STEP)
    out: list[Sample] = []
    for svc in (s for s in cat.services if s.metrics):
        labels = {"service": svc.name}
        spike = start + rng.randint(3, days - 3) * 86400 + 15 * 3600
        for ts in range(start, int(now) - STEP, STEP):
            hour = (ts % 86400) / 3600
            load = 1 + 0.6 * math.sin((hour - 8) / 24 * 2 * math.pi)
            slow = 4.0 if 0 <= ts - spike < 3600 else 1.0
            slow *= 1.45 if ts >= now - REGRESSION_AGO else 1.0  # the 1.4.1 deploy
            p50 = rng.lognormvariate(math.log(20 * load * slow), 0.1)
            growth = (ts - start) / (days * 86400)
            values = {
                "throughput_rps": max(0.0, rng.gauss(12 * load, 1.0)),
                "error_rate": max(0.0, rng.gauss(0.01 * slow, 0.003)),
                "latency_p50_ms": p50,
                "latency_p95_ms": p50 * 2.2,
                "latency_p99_ms": p50 * 3.5,
                "cpu_cores": max(0.0, rng.gauss(0.15 * load, 0.02)),
                "memory_bytes": 180e6 * (1 + 0.4 * growth) + rng.gauss(0, 2e6),
            }
            out += [(name, labels, float(ts), v) for name, v in values.items()]
    return out


def seed(url: str, cat: Catalog, *, days: int = 30) -> int:
    count = 0
    now = time.time()
    with store_transaction(url) as conn:
        for ago, version in ((10 * 86400, "1.4.0"), (REGRESSION_AGO + 600, "1.4.1")):
            at = datetime.fromtimestamp(now - ago, UTC)
            record_deployment(
                conn, service="sample", version=version, environment="production",
                commit=f"demo{version}", committed_at=at - timedelta(hours=5), deployed_at=at,
            )  # fmt: skip
        count += record_samples(conn, samples=demo_metrics(cat, days=days, now=time.time()))
        moment = datetime.fromtimestamp(now, UTC)
        tickets = demo_resolved_tickets(moment, count=50, source="demo")
        count += upsert_tickets(conn, tickets + demo_open_tickets(moment)).inserted
        store_incidents(conn, demo_incidents(moment))
        count += upsert_responses(conn, demo_surveys(moment)).inserted
        disk = demo_disk([s.name for s in cat.services if s.metrics], days=days, now=now, step=STEP)
        count += record_samples(conn, samples=disk)
        ids = sync_services(conn, services=cat.services)
        history = list(demo_history(cat, days=days, now=time.time()))
        record_sweeps(conn, sweeps=history, ids=ids, thresholds=cat.thresholds())
        count += sum(len(outcomes) for _, outcomes in history)
    return count


@contextmanager
def sample_services() -> Iterator[tuple[int, int]]:
    """A healthy and a broken sample service on free ports, for the demo's live sweep."""
    log = get_settings().var_dir / "demo" / "sample.log"
    log.unlink(missing_ok=True)
    servers = [
        make_server(port=0, version="1.4.2", log_file=log, error_rate=0.05),
        make_server(port=0, version="0.9.0", broken=True),
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    try:
        yield servers[0].server_port, servers[1].server_port
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


def demo_catalog(source: Path, healthy: int, broken: int) -> dict[str, Any]:
    """The example catalog pointed at the demo's ports, plus a deliberately broken service."""
    raw: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    for svc in raw["services"]:
        if str(svc.get("url", "")).startswith("http://127.0.0.1:8801"):
            svc["url"] = f"http://127.0.0.1:{healthy}"
            for log_source in svc.get("logs", []):
                log_source["path"] = str(get_settings().var_dir / "demo" / "sample.log")
    raw["services"].append(
        {
            "name": "legacy-billing",
            "description": "Demo: a second copy of the sample service, deliberately broken.",
            "owner": "billing-team",
            "url": f"http://127.0.0.1:{broken}",
            "version_url": "/version",
            "checks": [
                {"name": "health", "url": "/healthz", "expect_keyword": "ok", "smoke": True}
            ],
            "routes": raw["services"][0].get("routes", []),
        }
    )
    return raw


def run_demo() -> int:
    from prefect.testing.utilities import prefect_test_harness

    from flows.deployments import CALENDAR

    settings = get_settings()
    demo_dir = settings.var_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    if "POSTDEPLOY_DATABASE_URL" in os.environ:
        url = settings.database_url
    else:
        db = demo_dir / "demo.db"
        for leftover in demo_dir.glob("demo.db*"):
            leftover.unlink()
        url = f"sqlite:///{db}"
    from postdeploy.store.migrate import upgrade

    upgrade(url)
    os.environ["POSTDEPLOY_DATABASE_URL"] = url
    get_settings.cache_clear()
    started = time.monotonic()
    load_catalog(settings.catalog)  # fail early, naming the file, if it is invalid
    results: list[tuple[str, str, float, str]] = []
    with sample_services() as (healthy, broken):
        catalog_path = demo_dir / "catalog.yaml"
        catalog_path.write_text(
            yaml.safe_dump(demo_catalog(settings.catalog, healthy, broken), sort_keys=False)
        )
        cat = load_catalog(catalog_path)
        rows = seed(url, cat)
        print(f"seeded     {rows} demo check results and metric samples (30 days, labelled demo)")
        # with PREFECT_API_URL set (as `up` does), the runs, logs and artifacts stay on that server
        if os.environ.get("PREFECT_API_URL"):
            print("prefect    the server at PREFECT_API_URL")
            server: Any = nullcontext()
        else:
            print("prefect    starting a temporary server")
            server = prefect_test_harness(server_startup_timeout=120)
        runs = DEMO_RUNS | report_runs(cat, demo_dir)
        with server:
            for spec in CALENDAR:
                for params in runs.get(spec.name, [{}]):
                    t0 = time.monotonic()
                    state: Any = spec.flow(
                        catalog_path=str(catalog_path), **params, return_state=True
                    )
                    detail = state.result(raise_on_failure=False)
                    took = time.monotonic() - t0
                    results.append((spec.name, state.name or "?", took, str(detail)))
    print()
    print(f"{'flow':<22} {'state':<10} {'seconds':>8}  result")
    for name, state, seconds, detail in results:
        print(f"{name:<22} {state:<10} {seconds:>8.1f}  {detail[:120]}")
    reports = sorted(str(p) for p in Path(settings.reports_dir).rglob("*") if p.is_file())
    print(f"\nreports    {', '.join(reports)}")
    print(f"demo took  {time.monotonic() - started:.0f}s")
    return 0 if all(state == "Completed" for _, state, _, _ in results) else 1
