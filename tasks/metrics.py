"""Metrics tasks: query Prometheus or scrape services, then store the standard series."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection

from postdeploy.adapters.prometheus import PrometheusApi, PrometheusError
from postdeploy.adapters.scrape import ScrapeError, scrape
from postdeploy.domain.metrics import Exposition, ScrapeNames, derive
from postdeploy.store.metrics import Sample, load_scrape, record_samples, save_scrape
from postdeploy.store.session import in_store

Unavailable = dict[str, str]  # service -> why its metrics are unavailable


@task(name="query-prometheus", cache_policy=NO_CACHE)
def query_prometheus(
    api: PrometheusApi,
    queries: dict[str, dict[str, str]],
    start: float,
    end: float,
    step: float = 60.0,
    attempts: int = 3,
    delay_s: float = 2.0,
) -> tuple[list[Sample], Unavailable]:
    """Range-query each service's standard series; a service whose queries keep failing is
    reported as unavailable instead of failing the run."""
    samples: list[Sample] = []
    unavailable: Unavailable = {}
    for service, by_series in queries.items():
        for attempt in range(attempts):
            try:
                found: list[Sample] = []
                for series, promql in by_series.items():
                    for _, points in api.query_range(promql, start, end, step):
                        found += [(series, {"service": service}, t, v) for t, v in points if v == v]
                samples += found
                break
            except PrometheusError as exc:
                if attempt == attempts - 1:
                    unavailable[service] = f"metrics unavailable: {exc}"
                else:
                    time.sleep(delay_s * 2**attempt)
    get_run_logger().info(
        "%d samples from Prometheus, %d unavailable", len(samples), len(unavailable)
    )
    return samples, unavailable


@task(name="scrape-services", cache_policy=NO_CACHE)
def scrape_services(targets: dict[str, str]) -> tuple[dict[str, Exposition], Unavailable]:
    """Scrape every service's /metrics at once (threads: it is IO), each tried twice."""

    def one(url: str) -> Exposition | str:
        for attempt in range(2):
            try:
                return scrape(url)
            except ScrapeError as exc:
                if attempt == 1:
                    return f"metrics unavailable: {exc}"
        raise AssertionError("unreachable")

    with ThreadPoolExecutor(max_workers=min(32, max(1, len(targets)))) as pool:
        results = dict(zip(targets, pool.map(one, targets.values()), strict=True))
    good = {s: r for s, r in results.items() if not isinstance(r, str)}
    bad = {s: r for s, r in results.items() if isinstance(r, str)}
    return good, bad


@task(name="record-scrapes", cache_policy=NO_CACHE)
def record_scrapes(
    url: str, scrapes: dict[str, Exposition], names: dict[str, ScrapeNames], at: float
) -> list[Sample]:
    """Derive the standard series against each service's previous scrape and store them."""

    def work(conn: Connection) -> list[Sample]:
        samples: list[Sample] = []
        for service, now in scrapes.items():
            previous = load_scrape(conn, service=service)
            before, seconds = (previous[1], at - previous[0]) if previous else ({}, 0.0)
            values = derive(before, now, seconds, names[service])
            samples += [(k, {"service": service}, at, v) for k, v in values.items()]
            save_scrape(conn, service=service, ts=at, samples=now)
        record_samples(conn, samples=samples)
        return samples

    return in_store(url, work)


@task(name="record-metrics", cache_policy=NO_CACHE)
def record_metrics(url: str, samples: Sequence[Sample]) -> int:
    return in_store(url, lambda conn: record_samples(conn, samples=samples))
