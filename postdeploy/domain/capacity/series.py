"""Metric history as a regular series: resampling to a grid, gaps, seasonality, backtest error."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

HOUR, DAY, WEEK = 3600, 86400, 7 * 86400
STEPS = (60, 300, 900, HOUR, 6 * HOUR, DAY)  # grid steps, finest first
MIN_POINTS = 12  # grid points: a level, a trend and a backtest of at least two points
MAX_POINTS = 1500  # a coarser step beyond this: fitting time grows with the points


class HistoryError(ValueError):
    """The history cannot be forecast; the message says what is wrong with it."""


@dataclass(frozen=True)
class Grid:
    """Values at start, start + step, ... (each the mean of the samples nearest that time)."""

    start: float
    step: float
    values: tuple[float, ...]
    note: str = ""  # what resampling did that a reader should know

    @property
    def end(self) -> float:
        return self.start + (len(self.values) - 1) * self.step

    def times(self) -> list[float]:
        return [self.start + i * self.step for i in range(len(self.values))]


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def span_text(seconds: float) -> str:
    for unit, size in (("d", DAY), ("h", HOUR), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds:g}s"


def choose_step(times: Sequence[float], max_points: int = MAX_POINTS) -> float:
    """The finest grid step no finer than the data, hourly or coarser over 3 days or more (capacity
    is about days, and a daily season of 24 points fits fast), within max_points."""
    gaps = sorted(b - a for a, b in zip(times, times[1:], strict=False) if b > a)
    spacing = gaps[len(gaps) // 2] if gaps else 0.0
    span = times[-1] - times[0] if times else 0.0
    floor = max(spacing * 0.9, span / max_points, HOUR if span >= 3 * DAY else 0.0)
    for step in STEPS:
        if step >= floor:
            return float(step)
    return float(math.ceil(floor / DAY) * DAY)


def resample(
    points: Sequence[tuple[float, float]],
    *,
    step: float | None = None,
    max_gap: float | None = None,
    on_gap: Literal["error", "trailing"] = "error",
) -> Grid:
    """A regular grid from (epoch seconds, value) samples in any order.

    Empty grid slots are filled by straight lines between their neighbours when the gap is at
    most `max_gap` (default the larger of 3 steps and 6 hours). A longer gap is an error, or
    with on_gap="trailing" the history after the last such gap is used (and said in the note).
    """
    for ts, value in points:
        if not (math.isfinite(ts) and math.isfinite(value)):
            raise HistoryError(f"sample at {ts!r} has value {value!r}: not a finite number")
    ordered = sorted(points)
    if not ordered:
        raise HistoryError(f"not enough history (0 points, need {MIN_POINTS})")
    step = step or choose_step([t for t, _ in ordered])
    start = round(ordered[0][0] / step) * step
    sums: dict[int, list[float]] = {}
    for ts, value in ordered:
        slot = sums.setdefault(math.floor((ts - start) / step + 0.5), [0.0, 0.0])
        slot[0] += value
        slot[1] += 1
    slots = sorted(sums)
    limit = max_gap if max_gap is not None else max(3 * step, 6 * HOUR)
    note = ""
    for a, b in zip(reversed(slots[:-1]), reversed(slots[1:]), strict=True):
        if (b - a - 1) * step > limit:
            length, until = span_text((b - a) * step), when(start + b * step)
            if on_gap == "error":
                raise HistoryError(
                    f"gap of {length} in the history, from {when(start + a * step)} to {until}"
                    f" (gaps up to {span_text(limit)} are filled in)"
                )
            slots = [s for s in slots if s >= b]
            note = f"only the history since {until} is used, after a gap of {length}"
            break
    first = slots[0]
    values: list[float] = []
    for a, b in zip(slots, slots[1:] + [slots[-1] + 1], strict=True):
        va = sums[a][0] / sums[a][1]
        values.append(va)
        if b > a + 1:
            vb = sums[b][0] / sums[b][1]
            values += [va + (vb - va) * (k / (b - a)) for k in range(1, b - a)]
    if len(values) < MIN_POINTS:
        raise HistoryError(
            f"not enough history ({len(values)} points at {span_text(step)} steps,"
            f" need {MIN_POINTS})" + (f"; {note}" if note else "")
        )
    return Grid(start + first * step, step, tuple(values), note)


def autocorrelation(values: Sequence[float], lag: int) -> float:
    n = len(values)
    if lag <= 0 or lag >= n:
        return 0.0
    mean = sum(values) / n
    dev = [v - mean for v in values]
    var = sum(d * d for d in dev)
    if var == 0:
        return 0.0
    return sum(dev[i] * dev[i + lag] for i in range(n - lag)) / var


def detrend(values: Sequence[float]) -> list[float]:
    """The values less their least-squares line (a trend would correlate at every lag)."""
    n = len(values)
    xm, ym = (n - 1) / 2, sum(values) / n
    sxx = sum((i - xm) ** 2 for i in range(n))
    slope = sum((i - xm) * (v - ym) for i, v in enumerate(values)) / sxx if sxx else 0.0
    return [v - ym - slope * (i - xm) for i, v in enumerate(values)]


@dataclass(frozen=True)
class Seasonality:
    name: str | None  # "daily", "weekly" or None
    period: int | None  # in grid steps
    strength: float  # autocorrelation at the period, after removing the trend
    note: str
    too_short: bool = False  # a daily cycle could be there, but not two of them to tell


MIN_STRENGTH = 0.3


def detect_seasonality(values: Sequence[float], step: float) -> Seasonality:
    """A daily or weekly cycle: with two whole cycles of history, the detrended series correlates
    with itself one cycle later (>= 0.3) more than half a cycle later (which a slow wander
    would not). Weekly wins only when it is clearly stronger than daily (weekday shapes)."""
    rest = detrend(values)
    found: list[Seasonality] = []
    reasons: list[str] = []
    for name, length in (("daily", DAY), ("weekly", WEEK)):
        period = round(length / step)
        if period < 2 or abs(period * step - length) > step / 2:
            reasons.append(f"{name}: steps of {span_text(step)} cannot show it")
            continue
        if len(values) < 2 * period:
            reasons.append(f"{name}: needs two cycles, {span_text(2 * length)} of history")
            continue
        at, half = autocorrelation(rest, period), autocorrelation(rest, period // 2)
        if at >= MIN_STRENGTH and at > half + 0.1:
            found.append(Seasonality(name, period, at, f"{name} (autocorrelation {at:.2f})"))
        else:
            reasons.append(f"{name}: autocorrelation {at:.2f}")
    if len(found) == 2 and found[1].strength < found[0].strength + 0.1:
        found.pop()
    if found:
        return found[-1]
    short = any(r.startswith("daily: needs") for r in reasons)
    return Seasonality(None, None, 0.0, "none (" + "; ".join(reasons) + ")", short)


def mape(actual: Sequence[float], predicted: Sequence[float]) -> float | None:
    """Mean absolute percentage error; points where the actual value is 0 are left out, and
    None (no data) when none is left."""
    pairs = [(a, p) for a, p in zip(actual, predicted, strict=True) if a != 0]
    if not pairs:
        return None
    return 100.0 * sum(abs(a - p) / abs(a) for a, p in pairs) / len(pairs)


@dataclass(frozen=True)
class Trend:
    present: bool
    slope: float  # per grid step, of the block means
    t: float  # the slope's t statistic (inf when the block means lie on a line)
    note: str


MIN_T = 2.0
MIN_BLOCKS = 5


def detect_trend(values: Sequence[float], season: Seasonality) -> Trend:
    """A trend is modelled when the means of whole cycles (or of twentieths of the history,
    without a cycle) lie along a slope with |t| >= 2. Means of whole cycles cancel the season
    and most of the short-term correlation. A trend is assumed, the cautious choice for
    capacity, with fewer than 5 blocks or less than two days (part of a daily cycle would
    pass for a trend, or hide one)."""
    if season.too_short:
        return Trend(True, 0.0, math.inf, "assumed: too little history to tell from a cycle")
    period = season.period
    size = period or max(1, len(values) // 20)
    blocks = [sum(values[i : i + size]) / size for i in range(0, len(values) - size + 1, size)]
    n = len(blocks)
    if n < MIN_BLOCKS:
        return Trend(True, 0.0, math.inf, f"assumed: {n} blocks are too few to test")
    xm, ym = (n - 1) / 2, sum(blocks) / n
    sxx = sum((i - xm) ** 2 for i in range(n))
    slope = sum((i - xm) * (b - ym) for i, b in enumerate(blocks)) / sxx
    residual = sum((b - ym - slope * (i - xm)) ** 2 for i, b in enumerate(blocks))
    scale = max(abs(ym), 1e-300)
    if residual <= (1e-12 * scale) ** 2 * n:
        t = math.inf if abs(slope) > 1e-12 * scale else 0.0
    else:
        t = slope / math.sqrt(residual / (n - 2) / sxx)
    present = abs(t) >= MIN_T
    verdict = "yes" if present else "none"
    return Trend(present, slope / size, t, f"{verdict} (t = {t:.1f} over {n} block means)")
