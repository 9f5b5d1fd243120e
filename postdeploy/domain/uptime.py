"""Uptime arithmetic: percentages, daily bars and latency percentiles from check results."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

DAY = 86400


@dataclass(frozen=True)
class UptimeRow:
    service: str
    check: str
    total: int
    ok: int
    avg_latency_ms: float | None
    p95_latency_ms: float | None
    last_ok: bool | None
    last_detail: str
    days: tuple[tuple[int, int, int], ...]  # (day index since epoch, ok, total)

    @property
    def uptime(self) -> float | None:
        return uptime_percent(self.ok, self.total)


def uptime_percent(ok: int, total: int) -> float | None:
    """None when nothing was measured: a gap is not 100% and not 0%."""
    return None if total <= 0 else 100.0 * ok / total


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def bar_level(ok: int, total: int) -> str:
    """Colour class for one day's bar, as status pages draw them."""
    pct = uptime_percent(ok, total)
    if pct is None:
        return "nodata"
    if pct >= 99.9:
        return "good"
    if pct >= 99.0:
        return "minor"
    if pct >= 95.0:
        return "partial"
    return "major"


def format_percent(value: float | None, digits: int = 3) -> str:
    return "no data" if value is None else f"{value:.{digits}f}%"
