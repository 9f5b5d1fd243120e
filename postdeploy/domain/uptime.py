"""Uptime arithmetic: percentages, daily bars and latency percentiles from check results."""

from __future__ import annotations

import bisect
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


# Latency histogram of ok results, kept per service, check and UTC day (the check_daily
# rollup). Bucket 0 holds latencies <= 1 ms; bucket k (1..60) holds (2^((k-1)/4), 2^(k/4)] ms,
# quarter-octave steps up to 32,768 ms; bucket 61 holds everything slower.
LATENCY_BOUNDS: tuple[float, ...] = tuple(2 ** (k / 4) for k in range(61))
LATENCY_BUCKETS = len(LATENCY_BOUNDS) + 1
LATENCY_STEP = 2 ** (1 / 4)  # ratio of a bucket's upper to its lower bound


def latency_bucket(latency_ms: float) -> int:
    """The histogram bucket of one latency: the first whose upper bound is >= it."""
    return bisect.bisect_left(LATENCY_BOUNDS, latency_ms)


def histogram_percentile(
    counts: Sequence[int], q: float, *, lowest: float, highest: float
) -> float | None:
    """Nearest-rank percentile from bucket counts: the upper bound of the bucket holding the
    ranked value, clamped to the observed [lowest, highest]; None for no values.

    Never below the exact nearest-rank percentile, and at most 19% above it (one bucket
    step, 2^(1/4)); under 1 ms at most 1 ms; past 32,768 ms it reports the slowest seen."""
    n = sum(counts)
    if n <= 0:
        return None
    rank = max(1, math.ceil(q / 100 * n))
    seen = 0
    for i, c in enumerate(counts):
        seen += c
        if seen >= rank:
            upper = LATENCY_BOUNDS[i] if i < len(LATENCY_BOUNDS) else highest
            return max(lowest, min(upper, highest))
    return highest
