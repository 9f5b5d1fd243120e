"""collect-metrics: the standard performance series of every service, from Prometheus when one
is configured, else by scraping each service's /metrics."""

from __future__ import annotations

import time
from typing import Any

from prefect import flow

from flows.common import catalog as load
from flows.common import store_url, with_store_retries
from postdeploy.adapters.prometheus import PrometheusApi, standard_queries
from postdeploy.catalog import Catalog
from postdeploy.settings import get_settings
from tasks.metrics import query_prometheus, record_metrics, record_scrapes, scrape_services


def prometheus_api(cat: Catalog, block: str | None) -> PrometheusApi | None:
    name = block or (cat.prometheus.block if cat.prometheus else None)
    if name:
        from blocks.prometheus import PrometheusConnection

        return PrometheusConnection.load(name).api()  # type: ignore[union-attr,no-any-return]
    if cat.prometheus and cat.prometheus.url:
        return PrometheusApi(url=cat.prometheus.url)
    return None


@flow(name="collect-metrics", description="Latency, errors, throughput, CPU and memory.")
def collect_metrics(
    catalog_path: str | None = None,
    store_block: str | None = None,
    prometheus_block: str | None = None,
    lookback_minutes: int = 15,
) -> dict[str, Any]:
    """Store latency p50/p95/p99, error rate, throughput, CPU and memory per service.

    Args:
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
        prometheus_block: a PrometheusConnection block; default the catalog's `prometheus`.
        lookback_minutes: with Prometheus, the range re-read each run (fills missed runs).
    """
    cat = load(catalog_path)
    services = [s for s in cat.services if s.metrics]
    url = store_url(store_block)
    api = prometheus_api(cat, prometheus_block)
    now = time.time()
    if api is not None:
        queries = {s.name: standard_queries(s.name, s.metrics) for s in services if s.metrics}
        samples, unavailable = query_prometheus(
            api, queries, now - lookback_minutes * 60, now, 60.0,
            delay_s=get_settings().store_retry_delay_s,
        )  # fmt: skip
        with_store_retries(record_metrics)(url, samples)
        source = "prometheus"
    else:
        targets = {
            s.name: s.resolve(s.metrics.scrape) for s in services if s.metrics and s.metrics.scrape
        }
        scrapes, unavailable = scrape_services(targets)
        names = {s.name: s.metrics.names() for s in services if s.metrics}
        samples = with_store_retries(record_scrapes)(url, scrapes, names, now)
        source = "scrape"
    latest: dict[str, dict[str, Any]] = {
        s.name: {"status": unavailable.get(s.name, "no data yet")} for s in services
    }
    for name, labels, _, value in sorted(samples, key=lambda x: x[2]):
        entry = latest[labels["service"]]
        entry[name] = round(value, 4)
        if entry["status"] == "no data yet":
            entry["status"] = "ok"
    return {"source": source, "services": latest}
