"""The four DORA metrics, each with the performance tier it falls in (thresholds and their
sources in docs/kpis.md): deployment frequency, change lead time, change fail rate and
failed-deployment recovery time."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from postdeploy.domain.kpi.value import KpiValue, Tier, no_data, share
from postdeploy.domain.periods import Period

# Deploys per day at or above which a tier starts: more than one a day is on demand; at least
# one a week is daily-to-weekly; at least one a month (31 days, so any calendar month with a
# deploy qualifies) is weekly-to-monthly; less is low.
FREQUENCY_TIERS: tuple[tuple[Tier, float], ...] = (("high", 1 / 7), ("medium", 1 / 31))
# Median durations below which a tier starts.
LEAD_TIME_TIERS: tuple[tuple[Tier, timedelta], ...] = (
    ("elite", timedelta(days=1)),
    ("high", timedelta(weeks=1)),
    ("medium", timedelta(days=30)),
)
RECOVERY_TIERS: tuple[tuple[Tier, timedelta], ...] = (
    ("elite", timedelta(hours=1)),
    ("high", timedelta(days=1)),
    ("medium", timedelta(weeks=1)),
)
# Change fail rate (%) at or below which a tier starts; elite and high share 0-15%.
FAIL_RATE_TIERS: tuple[tuple[Tier, float], ...] = (("elite", 15.0), ("medium", 30.0))


def deployment_frequency(deploys: Sequence[datetime], period: Period) -> KpiValue:
    """Production deploys per day over the period's calendar days; zero deploys is a frequency
    of 0 (tier low), not a gap. Deploys outside the period are ignored."""
    return deployment_frequency_of(sum(t in period for t in deploys), period)


def deployment_frequency_of(count: int, period: Period) -> KpiValue:
    """`deployment_frequency` from the number of deploys in the period (counted by the store)."""
    if count < 0:
        raise ValueError(f"deploy count {count} must not be negative")
    per_day = count / period.days
    if per_day > 1:
        tier: Tier = "elite"
    else:
        tier = next((t for t, floor in FREQUENCY_TIERS if per_day >= floor), "low")
    note = "no deployments in the period" if count == 0 else f"{count} deployments"
    return KpiValue(per_day, "deploys/day", count, note, tier)


def lead_time(durations: Sequence[timedelta]) -> KpiValue:
    """Median commit-to-production time, in hours."""
    return lead_time_of(_median(durations), len(durations))


def failed_deployment_recovery_time(durations: Sequence[timedelta]) -> KpiValue:
    """Median time from a failed deployment to service restored, in hours."""
    return recovery_time_of(_median(durations), len(durations))


def lead_time_of(median: timedelta | None, n: int) -> KpiValue:
    """`lead_time` from a median the store computed over n changes (None when n is 0)."""
    return _tiered(median, n, LEAD_TIME_TIERS)


def recovery_time_of(median: timedelta | None, n: int) -> KpiValue:
    """`failed_deployment_recovery_time` from a median the store computed over n recoveries."""
    return _tiered(median, n, RECOVERY_TIERS)


def change_fail_rate(failed: int, total: int) -> KpiValue:
    """% of production deploys that needed remediation (rollback, hotfix, incident)."""
    rate = share(failed, total)
    if rate.value is None:
        return replace(rate, note="no deployments in the period")
    tier: Tier = next((t for t, top in FAIL_RATE_TIERS if rate.value <= top), "low")
    note = "elite and high share 0-15%" if tier == "elite" else ""
    return replace(rate, tier=tier, note=note)


def _median(durations: Sequence[timedelta]) -> timedelta | None:
    if not durations:
        return None
    if any(d < timedelta(0) for d in durations):
        raise ValueError("durations must not be negative")
    return timedelta(seconds=statistics.median(d.total_seconds() for d in durations))


def _tiered(
    median: timedelta | None, n: int, tiers: tuple[tuple[Tier, timedelta], ...]
) -> KpiValue:
    if median is None or n == 0:
        return no_data("h")
    if median < timedelta(0):
        raise ValueError("durations must not be negative")
    tier: Tier = next((t for t, below in tiers if median < below), "low")
    return KpiValue(median.total_seconds() / 3600, "h", n, "median", tier)
