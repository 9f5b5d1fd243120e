"""SLOs from good/total counts: SLI, error budget, burn rates and multi-window burn-rate alerts.

Counts come from any source (check results, a Prometheus good/total ratio, a log count): the
rules here only see `Counts` per window, or per time bucket summed into windows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

Severity = Literal["page", "ticket"]


@dataclass(frozen=True)
class Counts:
    good: int
    total: int

    def __post_init__(self) -> None:
        if not 0 <= self.good <= self.total:
            raise ValueError(f"good {self.good} must be between 0 and total {self.total}")

    @property
    def bad(self) -> int:
        return self.total - self.good

    @property
    def sli(self) -> float | None:
        """Share of good events, 0..1; None when nothing was measured."""
        return None if self.total == 0 else self.good / self.total

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.good + other.good, self.total + other.total)


NO_DATA = Counts(0, 0)


def counts_in(buckets: Iterable[tuple[float, Counts]], *, now: float, window: timedelta) -> Counts:
    """Sum the buckets starting in (now - window, now]; a bucket is (epoch start, counts)."""
    start = now - window.total_seconds()
    return sum((c for ts, c in buckets if start < ts <= now), NO_DATA)


@dataclass(frozen=True)
class Objective:
    """`percent` of events good over a rolling `window`: availability, or latency under a
    threshold (then `percent` is the percentile, e.g. p95 < 300 ms is 95% under 300 ms)."""

    percent: float
    window: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        if not 0 < self.percent <= 100:
            raise ValueError(f"objective {self.percent}% must be above 0 and at most 100")

    @property
    def budget_ratio(self) -> float:
        """The bad share the objective allows, 1 - objective (0.001 for 99.9%); rounded, as
        100 - 99.9 is 0.0999999999999943 in binary floating point."""
        return round((100.0 - self.percent) / 100.0, 12)


def burn_rate(objective: Objective, counts: Counts) -> float | None:
    """How fast the budget burns: 1 spends exactly the budget over the SLO window."""
    if counts.total == 0:
        return None
    if objective.budget_ratio == 0:  # a 100% objective: any bad event overspends it
        return math.inf if counts.bad else 0.0
    return (counts.bad / counts.total) / objective.budget_ratio


@dataclass(frozen=True)
class Budget:
    """Error budget over the SLO window as shares of the budget (1 = the whole budget) and as
    minutes of full downtime it is worth; remaining is negative once the budget is overspent."""

    consumed: float
    total_minutes: float
    consumed_minutes: float

    @property
    def remaining(self) -> float:
        return 1.0 - self.consumed

    @property
    def remaining_minutes(self) -> float:
        return self.total_minutes - self.consumed_minutes


def error_budget(objective: Objective, counts: Counts) -> Budget | None:
    rate = burn_rate(objective, counts)
    if rate is None:
        return None
    minutes = objective.window.total_seconds() / 60
    return Budget(
        consumed=rate,
        total_minutes=minutes * objective.budget_ratio,
        consumed_minutes=minutes * counts.bad / counts.total,
    )


@dataclass(frozen=True)
class BurnRule:
    severity: Severity
    long: timedelta
    short: timedelta
    factor: float


# The SRE workbook, "Alerting on SLOs", multiwindow multi-burn-rate alerts for a 30-day SLO:
# 2% of the budget in 1 hour or 5% in 6 hours pages, 10% in 3 days opens a ticket.
WORKBOOK_RULES: tuple[BurnRule, ...] = (
    BurnRule("page", timedelta(hours=1), timedelta(minutes=5), 14.4),
    BurnRule("page", timedelta(hours=6), timedelta(minutes=30), 6.0),
    BurnRule("ticket", timedelta(days=3), timedelta(hours=6), 1.0),
)


def rule_windows(rules: Sequence[BurnRule]) -> set[timedelta]:
    return {w for r in rules for w in (r.long, r.short)}


@dataclass(frozen=True)
class BurnAlert:
    rule: BurnRule
    long_burn: float | None
    short_burn: float | None

    @property
    def firing(self) -> bool:
        """Both windows burn faster than factor, i.e. bad share > factor x (1 - objective):
        the long window says it matters, the short one that it is still happening."""
        return all(
            b is not None and b > self.rule.factor for b in (self.long_burn, self.short_burn)
        )


def burn_alerts(
    objective: Objective,
    counts: Mapping[timedelta, Counts],
    rules: Sequence[BurnRule] = WORKBOOK_RULES,
) -> tuple[BurnAlert, ...]:
    """Every rule evaluated; a window missing from `counts` has no data and never fires."""
    return tuple(
        BurnAlert(
            rule,
            burn_rate(objective, counts.get(rule.long, NO_DATA)),
            burn_rate(objective, counts.get(rule.short, NO_DATA)),
        )
        for rule in rules
    )


@dataclass(frozen=True)
class SloStatus:
    name: str
    objective: Objective
    counts: Counts  # over the SLO window
    budget: Budget | None
    alerts: tuple[BurnAlert, ...]

    @property
    def sli(self) -> float | None:
        return self.counts.sli

    @property
    def met(self) -> bool | None:
        return None if self.sli is None else self.sli * 100 >= self.objective.percent

    @property
    def severity(self) -> Severity | None:
        """The most urgent firing rule: page over ticket; None when nothing fires."""
        firing = {a.rule.severity for a in self.alerts if a.firing}
        return "page" if "page" in firing else ("ticket" if firing else None)


def assess(
    name: str,
    objective: Objective,
    counts: Mapping[timedelta, Counts],
    rules: Sequence[BurnRule] = WORKBOOK_RULES,
) -> SloStatus:
    """`counts` holds the SLO window and every rule window."""
    window = counts.get(objective.window, NO_DATA)
    return SloStatus(
        name,
        objective,
        window,
        error_budget(objective, window),
        burn_alerts(objective, counts, rules),
    )
