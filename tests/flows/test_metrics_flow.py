"""collect-metrics on a real Prefect server: from a real Prometheus, or by scraping itself."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from flows.metrics import collect_metrics
from postdeploy.settings import get_settings
from postdeploy.store.metrics import read_series
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import metric_sample
from postdeploy.store.session import store_transaction
from tests.conftest import free_port

METRICS = {
    "scrape": "/metrics",
    "job": "sample",
    "requests_total": "sample_requests_total",
    "duration_histogram": "sample_request_duration_seconds",
    "window": "5s",
}


def catalog(path: Path, base: str, prometheus: str | None = None) -> str:
    doc: dict[str, Any] = {"services": [{"name": "sample", "url": base, "metrics": METRICS}]}
    if prometheus:
        doc["prometheus"] = {"url": prometheus}
    file = path / "catalog.yaml"
    file.write_text(yaml.safe_dump(doc))
    return str(file)


def samples() -> int:
    with store_transaction(get_settings().database_url) as conn:
        return int(conn.execute(select(func.count()).select_from(metric_sample)).scalar_one())


def test_scraping_twice_gives_throughput_errors_and_latency(
    settings_env: Path, busy_sample: str
) -> None:
    upgrade(get_settings().database_url)
    path = catalog(settings_env, busy_sample)
    first = collect_metrics(catalog_path=path)
    assert first["source"] == "scrape"
    # no rate from one scrape: only the gauges
    assert set(first["services"]["sample"]) == {"status", "memory_bytes", "disk_used_ratio"}
    time.sleep(2)
    second = collect_metrics(catalog_path=path)["services"]["sample"]
    assert second["status"] == "ok"
    # the traffic thread aims at 40/s; a loaded CI machine delivers a fraction of that
    assert second["throughput_rps"] > 1 and 0 < second["error_rate"] < 0.5
    assert 1 < second["latency_p50_ms"] <= second["latency_p99_ms"] < 2000
    with store_transaction(get_settings().database_url) as conn:
        points = read_series(
            conn, name="throughput_rps", labels={"service": "sample"}, since=0, until=2e9
        )
    assert len(points) == 1 and round(points[0][1], 4) == second["throughput_rps"]


def test_with_prometheus_the_series_come_from_promql_and_reruns_do_not_duplicate(
    settings_env: Path, busy_sample: str, prometheus: str
) -> None:
    upgrade(get_settings().database_url)
    path = catalog(settings_env, busy_sample, prometheus)
    deadline = time.monotonic() + 30
    result: dict[str, Any] = {}
    while time.monotonic() < deadline:
        result = collect_metrics(catalog_path=path, lookback_minutes=1)["services"]["sample"]
        if "latency_p95_ms" in result and "throughput_rps" in result:
            break
        time.sleep(2)
    assert result["status"] == "ok" and result["throughput_rps"] > 1
    stored = samples()
    collect_metrics(catalog_path=path, lookback_minutes=1)
    assert samples() - stored < 20  # one new step per series at most, the rest replaced


def test_prometheus_down_reports_metrics_unavailable_and_the_run_completes(
    settings_env: Path, busy_sample: str, monkeypatch: Any
) -> None:
    upgrade(get_settings().database_url)
    dead = f"http://127.0.0.1:{free_port()}"
    state = collect_metrics(
        catalog_path=catalog(settings_env, busy_sample, dead), return_state=True
    )
    assert state.is_completed()
    status = state.result()["services"]["sample"]["status"]
    assert status.startswith(f"metrics unavailable: Prometheus at {dead} unreachable")
