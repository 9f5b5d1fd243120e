"""The weekly performance review: week-over-week levels per series, regressions, and the
deploy that most likely caused each one."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DAY = 86400
WEEK = 7 * DAY

# series -> (direction that is bad, relative change that counts, absolute floor)
RULES: dict[str, tuple[int, float, float]] = {
    "latency_p50_ms": (+1, 0.20, 2.0),
    "latency_p95_ms": (+1, 0.20, 5.0),
    "latency_p99_ms": (+1, 0.25, 10.0),
    "error_rate": (+1, 0.50, 0.005),
    "throughput_rps": (-1, 0.30, 0.1),
}


@dataclass(frozen=True)
class Deploy:
    at: float
    version: str


@dataclass(frozen=True)
class Change:
    series: str
    last_week: float | None
    this_week: float | None
    change_pct: float | None
    regressed: bool
    recent: float | None = None  # the last two days: a mid-week regression shows here first
    since: float | None = None  # first day of the new level
    suspect: Deploy | None = None


def level(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _bad(series: str, before: float, after: float) -> bool:
    sign, relative, floor = RULES[series]
    delta = (after - before) * sign
    return delta > floor and (before == 0 or delta / abs(before) > relative)


def _onset(
    series: str, baseline: float, points: Sequence[tuple[float, float]], start: float
) -> float:
    """The first day of the week whose median already shows the regression."""
    for day in range(7):
        lo, hi = start + day * DAY, start + (day + 1) * DAY
        values = [v for t, v in points if lo <= t < hi]
        if values and _bad(series, baseline, statistics.median(values)):
            return lo
    return start


def review(
    points: Mapping[str, Sequence[tuple[float, float]]], deploys: Sequence[Deploy], now: float
) -> list[Change]:
    """Compare the last 7 days (and the last 2, where a mid-week regression shows first) with
    the 7 before, per series; blame the latest deploy before each regression's onset."""
    start = now - WEEK
    out = []
    for series in RULES:
        data = points.get(series, ())
        last = level([v for t, v in data if start - WEEK <= t < start])
        this = level([v for t, v in data if start <= t <= now])
        recent = level([v for t, v in data if now - 2 * DAY <= t <= now])
        if last is None or this is None:
            out.append(Change(series, last, this, None, False, recent))
            continue
        worst = recent if recent is not None and _bad(series, last, recent) else this
        pct = None if last == 0 else 100 * (worst - last) / abs(last)
        if not _bad(series, last, worst):
            out.append(Change(series, last, this, pct, False, recent))
            continue
        since = _onset(series, last, data, start)
        before = [d for d in deploys if start - WEEK <= d.at < since + DAY]
        suspect = max(before, key=lambda d: d.at) if before else None
        out.append(Change(series, last, this, pct, True, recent, since, suspect))
    return out
