"""From a forecast to a decision: when a threshold is crossed, how urgent that is, what to do."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from postdeploy.domain.capacity.series import DAY, Grid, Seasonality, span_text
from postdeploy.domain.capacity.units import RESOURCES, format_days, format_value

Urgency = Literal["over", "urgent", "soon", "later", "watch", "ok", "no threshold", "no forecast"]
URGENCY_ORDER: tuple[Urgency, ...] = (
    "over", "urgent", "soon", "later", "watch", "ok", "no threshold", "no forecast",
)  # fmt: skip
URGENT_DAYS, SOON_DAYS = 7.0, 30.0


@dataclass(frozen=True)
class Forecast:
    """A fitted forecast: the history it saw, the path ahead with its interval, and how well the
    same method predicted the last stretch of history it was not shown (MAPE, %)."""

    history: Grid
    times: tuple[float, ...]
    mean: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    level: float  # of the prediction interval, e.g. 0.95
    method: str
    seasonality: Seasonality
    mape: float | None  # None: no data (every held-out value was 0)
    holdout: int  # grid points held out for the backtest
    trend: str = ""  # whether a trend was found, and how sure

    @property
    def last_time(self) -> float:
        return self.history.end

    @property
    def last_value(self) -> float:
        return self.history.values[-1]

    @property
    def horizon_s(self) -> float:
        return self.times[-1] - self.last_time if self.times else 0.0


def crossing(
    last_time: float,
    last_value: float,
    times: Sequence[float],
    values: Sequence[float],
    threshold: float,
) -> float | None:
    """Seconds after last_time at which the path first reaches the threshold (straight lines
    between its points); 0 when it already has; None when it does not within the path."""
    if last_value >= threshold:
        return 0.0
    prev_t, prev_v = last_time, last_value
    for t, v in zip(times, values, strict=True):
        if v >= threshold:
            return prev_t + (threshold - prev_v) / (v - prev_v) * (t - prev_t) - last_time
        prev_t, prev_v = t, v
    return None


@dataclass(frozen=True)
class Assessment:
    service: str
    resource: str
    threshold: float | None
    forecast: Forecast | None
    error: str | None = None  # why there is no forecast
    days: float | None = None  # until the forecast reaches the threshold
    days_earliest: float | None = None  # until the interval's upper bound does
    urgency: Urgency = "no forecast"

    @property
    def crosses_at(self) -> float | None:
        if self.forecast is None or self.days is None:
            return None
        return self.forecast.last_time + self.days * DAY

    @property
    def recommendation(self) -> str:
        return recommend(self)


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / DAY


def assess(
    service: str, resource: str, forecast: Forecast | str, threshold: float | None
) -> Assessment:
    """`forecast` is the fitted forecast, or why there is none."""
    if isinstance(forecast, str):
        return Assessment(service, resource, threshold, None, error=forecast)
    if threshold is None:
        return Assessment(service, resource, None, forecast, urgency="no threshold")
    f = forecast
    days = _days(crossing(f.last_time, f.last_value, f.times, f.mean, threshold))
    earliest = _days(crossing(f.last_time, f.last_value, f.times, f.upper, threshold))
    urgency: Urgency
    if days == 0:
        urgency = "over"
    elif days is not None:
        urgency = "urgent" if days < URGENT_DAYS else "soon" if days < SOON_DAYS else "later"
    else:
        urgency = "watch" if earliest is not None else "ok"
    return Assessment(service, resource, threshold, f, None, days, earliest, urgency)


def rank(items: Iterable[Assessment]) -> list[Assessment]:
    """Most urgent first: by urgency, then sooner crossing, then service and resource."""

    def key(a: Assessment) -> tuple[int, float, float, str, str]:
        soon = a.days if a.days is not None else float("inf")
        early = a.days_earliest if a.days_earliest is not None else float("inf")
        return (URGENCY_ORDER.index(a.urgency), soon, early, a.service, a.resource)

    return sorted(items, key=key)


def _date(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def recommend(a: Assessment) -> str:
    label, advice = RESOURCES.get(a.resource, (a.resource, "plan for more capacity"))
    head = " ".join(part for part in (a.service, label) if part) or "the series"
    f = a.forecast
    if f is None:
        return f"{head}: no forecast: {a.error}."
    horizon = span_text(f.horizon_s)
    peak = format_value(a.resource, max(f.mean))
    if a.threshold is None:
        return (
            f"{head}: forecast peak {peak} within {horizon}; no threshold set"
            f" (catalog: capacity.{a.resource})."
        )
    limit = format_value(a.resource, a.threshold)
    pct = f"{f.level:.0%}"
    if a.urgency == "over":
        return (
            f"{head}: at {format_value(a.resource, f.last_value)}, already at or above {limit}."
            f" {advice[0].upper() + advice[1:]} now."
        )
    if a.days is not None and a.crosses_at is not None:
        return (
            f"{head}: forecast reaches {limit} in {format_days(a.days)} (around"
            f" {_date(a.crosses_at)}; {pct} interval: as early as"
            f" {format_days(a.days_earliest)}). {advice[0].upper() + advice[1:]} before then."
        )
    if a.days_earliest is not None:
        return (
            f"{head}: forecast stays below {limit} for {horizon} (peak {peak}), but the upper"
            f" {pct} bound reaches it in {format_days(a.days_earliest)}: watch it."
        )
    return f"{head}: stays below {limit} for the next {horizon} (forecast peak {peak})."
