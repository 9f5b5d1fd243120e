"""The Prometheus adapter against a real Prometheus scraping the real sample service."""

from __future__ import annotations

import time

import pytest

from postdeploy.adapters.prometheus import PrometheusApi, PrometheusError, standard_queries
from postdeploy.catalog import Metrics
from tests.conftest import free_port

SAMPLE_METRICS = Metrics(
    scrape="/metrics",
    job="sample",
    requests_total="sample_requests_total",
    duration_histogram="sample_request_duration_seconds",
    window="5s",  # rate() divides by the whole window: keep it within the data a test has
)


def eventually_values(api: PrometheusApi, queries: dict[str, str]) -> dict[str, float]:
    deadline, values = time.monotonic() + 30, {}
    while time.monotonic() < deadline:
        values = {}
        for name, promql in queries.items():
            result = api.query(promql)
            if result:
                values[name] = result[0][1][-1][1]
        if len(values) == len(queries) and all(v == v for v in values.values()):
            return values
        time.sleep(1)
    return values


def test_an_instant_query_sees_the_scraped_service_up(prometheus: str) -> None:
    api = PrometheusApi(prometheus)
    deadline = time.monotonic() + 20
    while not api.query('up{job="sample"}') and time.monotonic() < deadline:
        time.sleep(0.5)
    ((labels, [(ts, value)]),) = api.query('up{job="sample"}')
    assert labels["job"] == "sample" and value == 1.0 and abs(ts - time.time()) < 60


def test_the_standard_queries_give_plausible_service_metrics(prometheus: str) -> None:
    values = eventually_values(
        PrometheusApi(prometheus), standard_queries("sample", SAMPLE_METRICS)
    )
    assert set(values) == {
        "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate", "throughput_rps",
        "cpu_cores", "memory_bytes", "disk_used_ratio",
    }  # fmt: skip
    assert values["throughput_rps"] > 1  # 40 simulated requests/s aimed at, fewer on a busy CI
    assert 0.01 < values["error_rate"] < 0.5  # the busy sample fails 10% of orders
    assert 1 < values["latency_p50_ms"] <= values["latency_p95_ms"] <= values["latency_p99_ms"]
    assert values["latency_p99_ms"] < 2000
    assert values["memory_bytes"] > 1e6 and values["cpu_cores"] >= 0
    assert 0 < values["disk_used_ratio"] < 1  # the filesystem the sample writes to


def test_a_range_query_returns_points_at_the_step(prometheus: str) -> None:
    api = PrometheusApi(prometheus)
    now = time.time()
    eventually_values(api, {"up": 'up{job="sample"}'})
    ((_, points),) = api.query_range('up{job="sample"}', now - 10, now, 2)
    steps = {round(b[0] - a[0]) for a, b in zip(points, points[1:], strict=False)}
    assert points and steps <= {2}


def test_a_bad_query_is_an_error_with_prometheus_own_reason(prometheus: str) -> None:
    with pytest.raises(PrometheusError, match="HTTP 400.*parse error"):
        PrometheusApi(prometheus).query("sum(rate(")


def test_an_unreachable_prometheus_is_an_error_naming_it() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PrometheusError, match=f"Prometheus at {url} unreachable"):
        PrometheusApi(url, timeout=2).query("up")


def test_a_service_can_override_a_standard_query() -> None:
    custom = Metrics(queries={"error_rate": "my_errors / my_total"})
    queries = standard_queries("shop", custom)
    assert queries["error_rate"] == "my_errors / my_total"
    assert 'job="shop"' in queries["throughput_rps"]
