"""The bundled sample service over real HTTP: metrics, version, request log, errors, shutdown."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port, start_sample

T = TypeVar("T")

LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?P<level>[A-Z]+) "
    r"(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) \d+\.\dms from 127\.0\.0\.1$"
)


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=5, trust_env=False)


def eventually(probe: Callable[[], T], done: Callable[[T], bool], within: float = 5.0) -> T:
    """Ask again until done(answer): the service counts and logs a request after answering it."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def metric_families(base: str) -> dict[str, Metric]:
    response = get(f"{base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def orders_served(base: str) -> float:
    """sample_requests_total for /api/orders, summed over status codes."""
    family = metric_families(base)["sample_requests"]
    return sum(s.value for s in family.samples if s.labels.get("path") == "/api/orders")


def log_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


# --- metrics and version --------------------------------------------------------------------


def test_metrics_parse_as_prometheus_text_and_carry_the_build_version(
    sample_service: str,
) -> None:
    families = metric_families(sample_service)
    build = families["sample_build_info"]
    assert build.type == "gauge"
    assert [(s.labels, s.value) for s in build.samples] == [({"version": "1.2.3"}, 1.0)]
    assert families["sample_requests"].type == "counter"
    assert families["process_start_time_seconds"].samples[0].value <= time.time()


def test_the_requests_counter_grows_with_requests_to_the_orders_api(sample_service: str) -> None:
    before = orders_served(sample_service)
    for _ in range(3):
        assert get(f"{sample_service}/api/orders").status_code in (200, 500)  # 1% fail
    after = eventually(lambda: orders_served(sample_service), lambda n: n >= before + 3)
    assert after == before + 3


def test_request_durations_are_a_histogram_per_path(sample_service: str) -> None:
    for _ in range(2):
        get(f"{sample_service}/api/orders")
    family = eventually(
        lambda: metric_families(sample_service)["sample_request_duration_seconds"],
        lambda f: any(
            s.name.endswith("_count") and s.labels["path"] == "/api/orders" and s.value == 2
            for s in f.samples
        ),
    )
    assert family.type == "histogram"
    orders = [s for s in family.samples if s.labels["path"] == "/api/orders"]
    buckets = [(s.labels["le"], s.value) for s in orders if s.name.endswith("_bucket")]
    assert buckets[-1] == ("+Inf", 2)
    counts = [n for _, n in buckets]
    assert counts == sorted(counts)  # cumulative
    total = {s.name.rsplit("_", 1)[1]: s.value for s in orders if not s.name.endswith("_bucket")}
    assert total["count"] == 2
    assert total["sum"] > 0.001  # the orders API sleeps ~20 ms per request


def test_version_and_healthz_report_the_running_version(sample_service: str) -> None:
    version = get(f"{sample_service}/version")
    assert version.status_code == 200
    assert version.json() == {"version": "1.2.3"}
    assert get(f"{sample_service}/healthz").json() == {"status": "ok", "version": "1.2.3"}


def test_unknown_paths_answer_404_with_json(sample_service: str) -> None:
    response = get(f"{sample_service}/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "no route /no/such/page"}


# --- the request log ------------------------------------------------------------------------


def test_the_log_gets_one_line_per_request_with_method_path_and_status(
    sample_service: str, tmp_path: Path
) -> None:
    log = tmp_path / "sample.log"
    get(f"{sample_service}/healthz")
    get(f"{sample_service}/version?verbose=1")
    get(f"{sample_service}/missing")
    httpx.head(f"{sample_service}/healthz", timeout=5, trust_env=False)
    lines = eventually(lambda: log_lines(log), lambda got: len(got) >= 4)
    parsed = [LOG_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["level"], m["method"], m["path"], m["status"]) for m in parsed if m] == [
        ("INFO", "GET", "/healthz", "200"),
        ("INFO", "GET", "/version", "200"),  # the query string is not logged
        ("INFO", "GET", "/missing", "404"),
        ("INFO", "HEAD", "/healthz", "200"),
    ]


def test_an_error_rate_of_1_fails_every_order_with_500_and_logs_an_error(tmp_path: Path) -> None:
    log = tmp_path / "errors.log"
    server, thread = start_sample(error_rate=1.0, latency_ms=1.0, log_file=log)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        orders = get(f"{base}/api/orders")
        health = get(f"{base}/healthz")
        lines = eventually(lambda: log_lines(log), lambda got: len(got) >= 3)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert orders.status_code == 500
    assert orders.json() == {"error": "upstream timeout"}
    assert health.status_code == 200  # failing orders do not fail the health endpoint
    errors = [line for line in lines if " ERROR " in line]
    assert len(errors) == 1
    assert re.search(r"ERROR order \d+ failed: upstream timeout after 3000ms$", errors[0])
    assert any(" INFO GET /api/orders 500 " in line for line in lines)


# --- run as a program -----------------------------------------------------------------------


def test_the_module_runs_as_a_program_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "postdeploy.sample_service", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                health = get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the sample service did not answer in 10 s"
                time.sleep(0.05)
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert f"on http://127.0.0.1:{port}" in stdout


def test_odd_request_paths_never_break_the_metrics_or_add_series(sample_service: str) -> None:
    for path in ['/a"b\\', "/api/orders/123", "/api/orders/456", "/wp-login.php"]:
        get(sample_service + path)
    families = eventually(
        lambda: metric_families(sample_service),
        lambda f: sum(s.value for s in f["sample_requests"].samples) >= 4,
    )
    paths = {s.labels["path"] for s in families["sample_requests"].samples}
    assert paths <= {"/healthz", "/version", "/metrics", "/api/orders", "/api/*", "other"}
