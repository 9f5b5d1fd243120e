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
    count = sum(t in period for t in deploys)
    per_day = count / period.days
    if per_day > 1:
        tier: Tier = "elite"
    else:
        tier = next((t for t, floor in FREQUENCY_TIERS if per_day >= floor), "low")
    note = "no deployments in the period" if count == 0 else f"{count} deployments"
    return KpiValue(per_day, "deploys/day", count, note, tier)


def lead_time(durations: Sequence[timedelta]) -> KpiValue:
    """Median commit-to-production time, in hours."""
    return _median_tiered(durations, LEAD_TIME_TIERS)


def failed_deployment_recovery_time(durations: Sequence[timedelta]) -> KpiValue:
    """Median time from a failed deployment to service restored, in hours."""
    return _median_tiered(durations, RECOVERY_TIERS)


def change_fail_rate(failed: int, total: int) -> KpiValue:
    """% of production deploys that needed remediation (rollback, hotfix, incident)."""
    rate = share(failed, total)
    if rate.value is None:
        return replace(rate, note="no deployments in the period")
    tier: Tier = next((t for t, top in FAIL_RATE_TIERS if rate.value <= top), "low")
    note = "elite and high share 0-15%" if tier == "elite" else ""
    return replace(rate, tier=tier, note=note)


def _median_tiered(
    durations: Sequence[timedelta], tiers: tuple[tuple[Tier, timedelta], ...]
) -> KpiValue:
    if not durations:
        return no_data("h")
    if any(d < timedelta(0) for d in durations):
        raise ValueError("durations must not be negative")
    median = timedelta(seconds=statistics.median(d.total_seconds() for d in durations))
    tier: Tier = next((t for t, below in tiers if median < below), "low")
    return KpiValue(median.total_seconds() / 3600, "h", len(durations), "median", tier)
