"""A KPI's value with its unit and sample size, where None means "no data"; durations summed
up as mean, median and p90; and the trend against the previous period."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, NamedTuple

from postdeploy.domain.uptime import percentile

Tier = Literal["elite", "high", "medium", "low"]
Better = Literal["higher", "lower"]
Direction = Literal["up", "down", "flat"]
NO_DATA = "no data"
UNIT_SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass(frozen=True)
class KpiValue:
    value: float | None  # None: no data, never 0, NaN or a division by zero
    unit: str
    n: int  # sample size the value is computed from
    note: str = ""
    tier: Tier | None = None  # the DORA performance tier, for the four DORA metrics

    @property
    def has_data(self) -> bool:
        return self.value is not None


def no_data(unit: str, note: str = NO_DATA) -> KpiValue:
    return KpiValue(None, unit, 0, note)


def share(part: int, whole: int, unit: str = "%") -> KpiValue:
    """100 x part / whole; no data when whole is 0."""
    if not 0 <= part <= whole:
        raise ValueError(f"{part} must be between 0 and {whole}")
    return no_data(unit) if whole == 0 else KpiValue(100.0 * part / whole, unit, whole)


class Spread(NamedTuple):
    mean: KpiValue
    median: KpiValue
    p90: KpiValue


def spread(durations: Sequence[timedelta], unit: str) -> Spread:
    """Mean, median and nearest-rank p90 of durations, in `unit` (s, min, h or d)."""
    if not durations:
        return Spread(no_data(unit), no_data(unit), no_data(unit))
    if any(d < timedelta(0) for d in durations):
        raise ValueError("durations must not be negative")
    scale = UNIT_SECONDS[unit]
    values = [d.total_seconds() / scale for d in durations]
    p90 = percentile(values, 90)
    assert p90 is not None  # values is not empty
    n = len(values)
    return Spread(
        KpiValue(statistics.fmean(values), unit, n),
        KpiValue(statistics.median(values), unit, n),
        KpiValue(p90, unit, n),
    )


class Aggregate(NamedTuple):
    """Durations summed up elsewhere (the store, in SQL) with the definitions of `spread`:
    count, mean, median, nearest-rank p90 and max, in seconds."""

    n: int
    mean: float = 0.0
    median: float = 0.0
    p90: float = 0.0
    max: float = 0.0


def spread_of(agg: Aggregate, unit: str) -> Spread:
    """The Spread of durations the store aggregated; no data when there were none."""
    if agg.n == 0:
        return Spread(no_data(unit), no_data(unit), no_data(unit))
    if min(agg.mean, agg.median, agg.p90) < 0:
        raise ValueError("durations must not be negative")
    scale = UNIT_SECONDS[unit]
    return Spread(
        KpiValue(agg.mean / scale, unit, agg.n),
        KpiValue(agg.median / scale, unit, agg.n),
        KpiValue(agg.p90 / scale, unit, agg.n),
    )


# Which way is good, per KPI name (the names the report and kpi_snapshot use).
BETTER: dict[str, Better] = {
    "availability": "higher",
    "mtta": "lower",
    "mttr": "lower",
    "incidents": "lower",
    "first_response_time": "lower",
    "resolution_time": "lower",
    "sla_compliance": "higher",
    "issues_resolved": "higher",
    "backlog_size": "lower",
    "backlog_age": "lower",
    "csat": "higher",
    "nps": "higher",
    "ces": "higher",
    "deployment_frequency": "higher",
    "lead_time": "lower",
    "change_fail_rate": "lower",
    "failed_deployment_recovery_time": "lower",
    "error_budget_remaining": "higher",
}


class Trend(NamedTuple):
    direction: Direction | None  # None when either period has no data
    change: float | None  # current - previous, in the KPI's unit
    improved: bool | None  # None when flat or without data


def trend(current: KpiValue, previous: KpiValue, better: Better) -> Trend:
    if current.value is None or previous.value is None:
        return Trend(None, None, None)
    change = current.value - previous.value
    if change == 0:
        return Trend("flat", 0.0, None)
    return Trend("up" if change > 0 else "down", change, (change > 0) == (better == "higher"))
