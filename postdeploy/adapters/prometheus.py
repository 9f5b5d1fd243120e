"""The Prometheus HTTP API (instant and range queries) and the standard PromQL per service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from postdeploy.catalog import Metrics

Series = tuple[dict[str, str], list[tuple[float, float]]]


class PrometheusError(RuntimeError):
    """Prometheus could not answer; the message says why (never a credential)."""


@dataclass(frozen=True)
class PrometheusApi:
    url: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        auth = (self.username, self.password or "") if self.username else None
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = httpx.get(
                self.url.rstrip("/") + path,
                params=params,
                headers=headers,
                auth=auth,
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise PrometheusError(f"Prometheus at {self.url} unreachable: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or body.get("status") != "success":
            reason = body.get("error") or response.text[:200]
            raise PrometheusError(
                f"Prometheus at {self.url}: HTTP {response.status_code}: {reason}"
            )
        return body["data"]

    def query(self, promql: str, at: float | None = None) -> list[Series]:
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = at
        return _series(self._get("/api/v1/query", params))

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        params = {"query": promql, "start": start, "end": end, "step": step}
        return _series(self._get("/api/v1/query_range", params))


def _series(data: dict[str, Any]) -> list[Series]:
    kind, result = data.get("resultType"), data.get("result", [])
    if kind == "vector":
        return [(r["metric"], [(float(r["value"][0]), float(r["value"][1]))]) for r in result]
    if kind == "matrix":
        return [(r["metric"], [(float(t), float(v)) for t, v in r["values"]]) for r in result]
    if kind == "scalar":
        return [({}, [(float(result[0]), float(result[1]))])]
    raise PrometheusError(f"unexpected result type {kind!r}")


def standard_queries(service: str, metrics: Metrics) -> dict[str, str]:
    """PromQL for each standard series of a service, by convention, unless overridden."""
    job = metrics.job or service
    window = f"{int(metrics.window.total_seconds())}s"
    sel = f'job="{job}"'
    req, hist = metrics.requests_total, metrics.duration_histogram
    rate_all = f"sum(rate({req}{{{sel}}}[{window}]))"
    errors = f'sum(rate({req}{{{sel},{metrics.status_label}=~"5.."}}[{window}]))'
    buckets = f"sum by (le) (rate({hist}_bucket{{{sel}}}[{window}]))"
    queries = {
        "throughput_rps": rate_all,
        "error_rate": f"({errors} or vector(0)) / {rate_all}",
        "latency_p50_ms": f"histogram_quantile(0.5, {buckets}) * 1000",
        "latency_p95_ms": f"histogram_quantile(0.95, {buckets}) * 1000",
        "latency_p99_ms": f"histogram_quantile(0.99, {buckets}) * 1000",
        "cpu_cores": f"sum(rate({metrics.cpu_seconds}{{{sel}}}[{window}]))",
        "memory_bytes": f"sum({metrics.resident_memory}{{{sel}}})",
        "disk_used_ratio": f"1 - sum({metrics.filesystem_free}{{{sel}}})"
        f" / sum({metrics.filesystem_size}{{{sel}}})",
    }
    return {**queries, **metrics.queries}
