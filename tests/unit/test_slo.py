"""SLO arithmetic: SLI, error budget, burn rates and the workbook's multi-window alerts."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from postdeploy.domain.slo import (
    WORKBOOK_RULES,
    BurnRule,
    Counts,
    Objective,
    assess,
    burn_alerts,
    burn_rate,
    counts_in,
    error_budget,
)

H = timedelta(hours=1)
M5, M30, H6, D3, D30 = (
    timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=6), timedelta(days=3),
    timedelta(days=30),
)  # fmt: skip
THREE_NINES = Objective(99.9, D30)


def windows(**burns: float) -> dict[timedelta, Counts]:
    """Counts per rule window with the given burn rates against 99.9% (10,000 events each)."""
    names = {"h1": H, "m5": M5, "h6": H6, "m30": M30, "d3": D3, "d30": D30}
    return {names[k]: Counts(10_000 - round(b * 10), 10_000) for k, b in burns.items()}


def test_the_workbook_table_is_the_one_in_the_docs() -> None:
    assert [(r.severity, r.long, r.short, r.factor) for r in WORKBOOK_RULES] == [
        ("page", H, M5, 14.4),
        ("page", H6, M30, 6.0),
        ("ticket", D3, H6, 1.0),
    ]


def test_a_window_with_no_events_has_no_sli_rather_than_a_perfect_one() -> None:
    assert Counts(0, 0).sli is None
    assert burn_rate(THREE_NINES, Counts(0, 0)) is None
    assert error_budget(THREE_NINES, Counts(0, 0)) is None
    assert Counts(999, 1000).sli == pytest.approx(0.999)


def test_counts_reject_more_good_events_than_events() -> None:
    with pytest.raises(ValueError, match="between 0 and total"):
        Counts(5, 4)


def test_three_nines_over_30_days_allow_43_minutes_of_downtime() -> None:
    budget = error_budget(THREE_NINES, Counts(99_950, 100_000))
    assert budget is not None
    assert budget.total_minutes == pytest.approx(43.2)
    assert budget.consumed == pytest.approx(0.5)
    assert budget.consumed_minutes == pytest.approx(21.6)
    assert budget.remaining == pytest.approx(0.5)
    assert budget.remaining_minutes == pytest.approx(21.6)


def test_an_overspent_budget_has_a_negative_remainder() -> None:
    budget = error_budget(THREE_NINES, Counts(99_700, 100_000))
    assert budget is not None
    assert budget.consumed == pytest.approx(3.0)
    assert budget.remaining == pytest.approx(-2.0)
    assert budget.remaining_minutes == pytest.approx(-86.4)


def test_burn_rate_is_the_error_rate_over_the_allowed_error_rate() -> None:
    assert burn_rate(THREE_NINES, Counts(9_856, 10_000)) == pytest.approx(14.4)
    assert burn_rate(THREE_NINES, Counts(10_000, 10_000)) == 0.0


def test_a_hundred_percent_objective_burns_infinitely_on_the_first_bad_event() -> None:
    perfect = Objective(100.0)
    assert burn_rate(perfect, Counts(10, 10)) == 0.0
    assert burn_rate(perfect, Counts(9, 10)) == math.inf


def test_a_fast_burn_pages_only_while_the_short_window_still_burns() -> None:
    still_burning = burn_alerts(THREE_NINES, windows(h1=20, m5=30))
    assert [a.firing for a in still_burning] == [True, False, False]
    recovered = burn_alerts(THREE_NINES, windows(h1=20, m5=0.5))
    assert not any(a.firing for a in recovered)


def test_a_burn_exactly_at_the_factor_does_not_fire() -> None:
    rule = BurnRule("page", H, M5, 2.0)
    at_factor = {H: Counts(998, 1000), M5: Counts(998, 1000)}  # 0.2% errors = 2x for 99.9%
    just_above = {H: Counts(997, 1000), M5: Counts(997, 1000)}
    assert not burn_alerts(THREE_NINES, at_factor, [rule])[0].firing
    assert burn_alerts(THREE_NINES, just_above, [rule])[0].firing


def test_a_slow_burn_opens_a_ticket_and_a_fast_one_pages() -> None:
    slow = assess("availability", THREE_NINES, windows(d30=1.5, d3=1.5, h6=2, m30=2, h1=2, m5=2))
    assert slow.severity == "ticket"
    fast = assess("availability", THREE_NINES, windows(d30=2, d3=8, h6=8, m30=8, h1=8, m5=8))
    assert fast.severity == "page"
    assert [a.firing for a in fast.alerts] == [False, True, True]
    calm = assess("availability", THREE_NINES, windows(d30=0.2, d3=0.5, h6=0.5, h1=0, m5=0))
    assert calm.severity is None and calm.met is True


def test_a_window_without_data_never_fires() -> None:
    alerts = burn_alerts(THREE_NINES, windows(h1=50))  # no 5-minute data
    assert alerts[0].short_burn is None and not alerts[0].firing


def test_a_latency_objective_is_the_share_of_events_under_the_threshold() -> None:
    p95 = Objective(95.0, D30)  # p95 under the threshold: 95% of events fast enough
    status = assess("latency", p95, {D30: Counts(940, 1000)}, rules=[])
    assert status.sli == pytest.approx(0.94)
    assert status.met is False
    assert status.budget is not None and status.budget.consumed == pytest.approx(1.2)


def test_buckets_from_any_source_sum_into_half_open_windows() -> None:
    now = 10_000.0
    buckets = [(now - 3600, Counts(1, 1)), (now - 3000, Counts(5, 10)), (now, Counts(2, 2))]
    assert counts_in(buckets, now=now, window=H) == Counts(7, 12)  # now - 1h is outside
    assert counts_in(buckets, now=now - 1, window=H) == Counts(6, 11)
    assert counts_in([], now=now, window=H) == Counts(0, 0)


def test_objectives_must_be_a_share_of_events() -> None:
    with pytest.raises(ValueError, match="above 0"):
        Objective(0)
    with pytest.raises(ValueError, match="at most 100"):
        Objective(100.5)
