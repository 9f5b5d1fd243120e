"""Service and support KPIs: availability, MTTA/MTTR, incidents by severity, ticket response and
resolution times, SLA compliance, issues resolved, backlog and SLO error budget remaining."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import NamedTuple

from postdeploy.domain.kpi.value import (
    Aggregate,
    KpiValue,
    Spread,
    no_data,
    share,
    spread,
    spread_of,
)
from postdeploy.domain.slo import Counts, Objective, error_budget

SEVERITIES = ("critical", "high", "medium", "low")


def availability(
    ok: int, total: int, *, maintenance_excluded: tuple[int, int] = (0, 0)
) -> KpiValue:
    """% of check results that succeeded. `ok` and `total` count every result in the period;
    `maintenance_excluded` is the (ok, total) of those inside maintenance windows, taken out.
    A gap (no results) is no data, never up: only results that exist count."""
    in_ok, in_total = maintenance_excluded
    if not (0 <= in_ok <= in_total and 0 <= in_total <= total and in_ok <= ok):
        raise ValueError(
            f"maintenance results {maintenance_excluded} exceed the results {ok}/{total}"
        )
    value = share(ok - in_ok, total - in_total)
    return (
        replace(value, note=f"{in_total} maintenance-window results excluded")
        if in_total
        else value
    )


MTTA_UNIT, MTTR_UNIT, TICKET_UNIT, AGE_UNIT = "min", "h", "h", "d"


def mtta(durations: Sequence[timedelta]) -> Spread:
    """Time from an incident opening to its acknowledgement, in minutes."""
    return spread(durations, MTTA_UNIT)


def mttr(durations: Sequence[timedelta]) -> Spread:
    """Time from an incident opening to its resolution (R = resolved), in hours; only resolved
    incidents count."""
    return spread(durations, MTTR_UNIT)


def incidents_by_severity(severities: Iterable[str]) -> dict[str, KpiValue]:
    """Incidents opened per severity, every known severity present (0 is a count, not a gap)."""
    counted = Counter(severities)
    names = list(SEVERITIES) + sorted(set(counted) - set(SEVERITIES))
    return {s: KpiValue(float(counted[s]), "incidents", counted[s]) for s in names}


def first_response_time(durations: Sequence[timedelta]) -> Spread:
    """Ticket creation to first response, in hours; group by priority before calling."""
    return spread(durations, TICKET_UNIT)


def resolution_time(durations: Sequence[timedelta]) -> Spread:
    """Ticket creation to resolution, in hours; group by priority before calling."""
    return spread(durations, TICKET_UNIT)


def sla_compliance(met: int, total: int) -> KpiValue:
    """% of tickets whose SLA clocks ended unbreached, of the tickets that closed in the period."""
    return share(met, total)


def issues_resolved(count: int) -> KpiValue:
    if count < 0:
        raise ValueError(f"resolved count {count} must not be negative")
    return KpiValue(float(count), "issues", count)


class Backlog(NamedTuple):
    size: KpiValue  # open tickets at the end of the period; 0 is a size, not a gap
    median_age: KpiValue
    p90_age: KpiValue
    oldest: KpiValue


def backlog(ages: Sequence[timedelta]) -> Backlog:
    """Size and age (days) of the tickets open at the end of the period."""
    ages_in_days = spread(ages, AGE_UNIT)
    oldest = KpiValue(max(ages).total_seconds() / 86400, "d", len(ages)) if ages else no_data("d")
    size = KpiValue(float(len(ages)), "tickets", len(ages))
    return Backlog(size, ages_in_days.median, ages_in_days.p90, oldest)


def backlog_of(ages: Aggregate) -> Backlog:
    """`backlog` from ages (seconds) the store aggregated."""
    in_days = spread_of(ages, AGE_UNIT)
    oldest = KpiValue(ages.max / 86400, "d", ages.n) if ages.n else no_data("d")
    size = KpiValue(float(ages.n), "tickets", ages.n)
    return Backlog(size, in_days.median, in_days.p90, oldest)


def error_budget_remaining(objective: Objective, counts: Counts) -> KpiValue:
    """% of the SLO window's error budget left (negative once overspent); no data without events."""
    if objective.budget_ratio == 0:
        return no_data("% of budget", "a 100% objective has no error budget")
    budget = error_budget(objective, counts)
    if budget is None:
        return no_data("% of budget")
    return KpiValue(100.0 * budget.remaining, "% of budget", counts.total)
