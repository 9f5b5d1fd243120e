"""Service performance metrics: the Prometheus text format, counter rates and histogram
quantiles, so the same standard series come from a Prometheus server or a direct scrape."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Labels = tuple[tuple[str, str], ...]
Exposition = dict[tuple[str, Labels], float]

# The standard series every source produces, per service (labels: {"service": name}).
STANDARD = (
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "error_rate",
    "throughput_rps",
    "cpu_cores",
    "memory_bytes",
    "disk_used_ratio",
)

_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?\s*$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?\s*')


class ExpositionError(ValueError):
    """A line of the Prometheus text format could not be read."""


def _unescape(value: str) -> str:
    return value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def parse_exposition(text: str) -> Exposition:
    """Samples of the Prometheus text format (0.0.4) by (name, sorted labels)."""
    out: Exposition = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise ExpositionError(f"line {n}: not a sample: {line[:80]!r}")
        name, _, body, value = match.group(1, 2, 3, 4)
        labels = tuple(sorted((k, _unescape(v)) for k, v in _LABEL.findall(body or "")))
        try:
            out[(name, labels)] = float(value)
        except ValueError:
            raise ExpositionError(f"line {n}: bad value {value!r}") from None
    return out


def total(samples: Exposition, name: str, where: Mapping[str, str] | None = None) -> float | None:
    """Sum of a metric over its series, optionally only those whose labels match regexes."""
    found = None
    for (metric, labels), value in samples.items():
        if metric != name:
            continue
        have = dict(labels)
        if where and not all(re.fullmatch(p, have.get(k, "")) for k, p in where.items()):
            continue
        found = (found or 0.0) + value
    return found


def increase(before: float | None, after: float | None) -> float | None:
    """Counter increase between two scrapes; a reset (after < before) counts from zero."""
    if before is None or after is None:
        return None
    return after if after < before else after - before


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile over (upper bound, cumulative count) pairs."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


@dataclass(frozen=True)
class ScrapeNames:
    """Where a service's /metrics keeps what the standard series are computed from."""

    requests_total: str = "http_requests_total"
    status_label: str = "code"
    duration_histogram: str = "http_request_duration_seconds"
    cpu_seconds: str = "process_cpu_seconds_total"
    resident_memory: str = "process_resident_memory_bytes"
    filesystem_size: str = "node_filesystem_size_bytes"
    filesystem_free: str = "node_filesystem_avail_bytes"


def _buckets(samples: Exposition, histogram: str) -> dict[float, float]:
    out: dict[float, float] = {}
    for (metric, labels), value in samples.items():
        if metric == f"{histogram}_bucket":
            le = dict(labels).get("le", "+Inf")
            bound = math.inf if le in ("+Inf", "Inf") else float(le)
            out[bound] = out.get(bound, 0.0) + value
    return out


def derive(
    before: Exposition, after: Exposition, seconds: float, names: ScrapeNames
) -> dict[str, float]:
    """The standard series from two scrapes `seconds` apart (only those that can be computed)."""
    out: dict[str, float] = {}
    memory = total(after, names.resident_memory)
    if memory is not None:
        out["memory_bytes"] = memory
    size, free = total(after, names.filesystem_size), total(after, names.filesystem_free)
    if size and free is not None:
        out["disk_used_ratio"] = min(1.0, max(0.0, 1 - free / size))
    if seconds <= 0:
        return out
    cpu = increase(total(before, names.cpu_seconds), total(after, names.cpu_seconds))
    if cpu is not None:
        out["cpu_cores"] = cpu / seconds
    requests = increase(total(before, names.requests_total), total(after, names.requests_total))
    if requests is not None:
        out["throughput_rps"] = requests / seconds
        errors = increase(
            total(before, names.requests_total, {names.status_label: "5.."}) or 0.0,
            total(after, names.requests_total, {names.status_label: "5.."}) or 0.0,
        )
        if requests > 0 and errors is not None:
            out["error_rate"] = errors / requests
    old, new = _buckets(before, names.duration_histogram), _buckets(after, names.duration_histogram)
    deltas = [(b, increase(old.get(b, 0.0), c) or 0.0) for b, c in new.items()]
    for q, key in ((0.5, "latency_p50_ms"), (0.95, "latency_p95_ms"), (0.99, "latency_p99_ms")):
        value = histogram_quantile(q, deltas)
        if value is not None:
            out[key] = value * 1000
    return out
