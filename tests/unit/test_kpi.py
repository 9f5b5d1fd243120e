"""KPI definitions, each checked against an independent computation and at its edges."""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from postdeploy.domain.kpi import (
    BETTER,
    KpiValue,
    availability,
    backlog,
    ces,
    change_fail_rate,
    csat,
    deployment_frequency,
    error_budget_remaining,
    failed_deployment_recovery_time,
    first_response_time,
    incidents_by_severity,
    issues_resolved,
    lead_time,
    mtta,
    mttr,
    nps,
    resolution_time,
    sla_compliance,
    trend,
)
from postdeploy.domain.periods import parse_period
from postdeploy.domain.slo import Counts, Objective

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
D = timedelta(days=1)


def generated_durations(seed: int, n: int = 200) -> list[timedelta]:
    rng = random.Random(seed)
    return [timedelta(seconds=rng.expovariate(1 / 5400)) for _ in range(n)]


def nearest_rank(values: list[float], q: float) -> float:
    """An independent nearest-rank percentile: the smallest value with at least q% at or below."""
    ordered = sorted(values)
    return next(v for i, v in enumerate(ordered, 1) if i / len(ordered) >= q / 100 - 1e-12)


# --- availability -----------------------------------------------------------------------------


def test_availability_is_the_share_of_successful_results() -> None:
    rng = random.Random(1)
    results = [rng.random() < 0.97 for _ in range(1000)]
    value = availability(sum(results), len(results))
    assert value.value == pytest.approx(100 * statistics.fmean(results))
    assert (value.unit, value.n) == ("%", 1000)


def test_availability_leaves_maintenance_window_results_out() -> None:
    # 100 results, 92 ok; 10 in a maintenance window, 8 of those failed (planned downtime)
    value = availability(92, 100, maintenance_excluded=(2, 10))
    assert value.value == pytest.approx(100.0)
    assert value.n == 90
    assert "10 maintenance-window results excluded" in value.note


def test_a_period_without_check_results_has_no_availability_rather_than_full_or_none() -> None:
    assert availability(0, 0).value is None
    only_maintenance = availability(3, 5, maintenance_excluded=(3, 5))
    assert (only_maintenance.value, only_maintenance.n) == (None, 0)


def test_availability_refuses_counts_that_do_not_add_up() -> None:
    with pytest.raises(ValueError):
        availability(5, 4)
    with pytest.raises(ValueError):
        availability(5, 10, maintenance_excluded=(3, 11))


# --- incident and ticket times ---------------------------------------------------------------


def test_mtta_and_mttr_match_the_statistics_module_on_generated_durations() -> None:
    durations = generated_durations(7)
    minutes = [d.total_seconds() / 60 for d in durations]
    hours = [d.total_seconds() / 3600 for d in durations]
    acked = mtta(durations)
    assert acked.mean.value == pytest.approx(statistics.fmean(minutes))
    assert acked.median.value == pytest.approx(statistics.median(minutes))
    assert acked.p90.value == pytest.approx(nearest_rank(minutes, 90))
    assert acked.mean.unit == "min"
    resolved = mttr(durations)
    assert resolved.mean.value == pytest.approx(statistics.fmean(hours))
    assert resolved.median.value == pytest.approx(statistics.median(hours))
    assert resolved.p90.value == pytest.approx(nearest_rank(hours, 90))
    assert resolved.p90.unit == "h" and resolved.p90.n == 200


def test_a_hand_computed_mttr() -> None:
    resolved = mttr([1 * H, 2 * H, 3 * H, 10 * H])
    assert resolved.mean.value == 4.0
    assert resolved.median.value == 2.5
    assert resolved.p90.value == 10.0  # ceil(0.9 x 4) = 4th of 4


def test_one_incident_is_its_own_mean_median_and_p90() -> None:
    single = mttr([90 * timedelta(minutes=1)])
    assert single.mean.value == single.median.value == single.p90.value == 1.5


def test_no_incidents_give_no_mtta_nor_mttr() -> None:
    for spread in (mtta([]), mttr([]), first_response_time([]), resolution_time([])):
        assert all(v.value is None and v.n == 0 for v in spread)


def test_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        mttr([H, -H])


def test_ticket_response_and_resolution_times_are_in_hours() -> None:
    assert first_response_time([30 * timedelta(minutes=1)]).median.value == 0.5
    assert resolution_time([D, 3 * D]).median.value == 48.0


def test_incidents_are_counted_per_severity_with_zero_for_the_quiet_ones() -> None:
    counted = incidents_by_severity(["high", "critical", "high", "sev5"])
    assert {k: v.value for k, v in counted.items()} == {
        "critical": 1.0,
        "high": 2.0,
        "medium": 0.0,
        "low": 0.0,
        "sev5": 1.0,
    }
    assert list(counted)[:4] == ["critical", "high", "medium", "low"]


# --- tickets ---------------------------------------------------------------------------------


def test_sla_compliance_is_the_share_of_tickets_that_met_their_sla() -> None:
    assert sla_compliance(45, 50).value == 90.0
    assert sla_compliance(0, 0).value is None
    with pytest.raises(ValueError):
        sla_compliance(3, 2)


def test_issues_resolved_is_a_count_where_zero_is_data() -> None:
    assert issues_resolved(0) == KpiValue(0.0, "issues", 0)
    assert issues_resolved(12).value == 12.0


def test_backlog_size_and_age_match_an_independent_computation() -> None:
    ages = generated_durations(3, 57)
    days = [a.total_seconds() / 86400 for a in ages]
    open_tickets = backlog(ages)
    assert open_tickets.size.value == 57.0
    assert open_tickets.median_age.value == pytest.approx(statistics.median(days))
    assert open_tickets.p90_age.value == pytest.approx(nearest_rank(days, 90))
    assert open_tickets.oldest.value == pytest.approx(max(days))


def test_an_empty_backlog_has_size_zero_and_no_age() -> None:
    empty = backlog([])
    assert empty.size.value == 0.0
    assert empty.median_age.value is None and empty.oldest.value is None


# --- surveys ---------------------------------------------------------------------------------


def test_csat_is_the_share_of_satisfied_answers() -> None:
    rng = random.Random(5)
    scores = [rng.randint(1, 5) for _ in range(500)]
    assert csat(scores).value == pytest.approx(100 * len([s for s in scores if s in (4, 5)]) / 500)
    assert csat([5, 4, 3, 1]).value == 50.0
    assert csat([]).value is None


def test_nps_is_promoters_minus_detractors_in_points() -> None:
    rng = random.Random(6)
    scores = [rng.randint(0, 10) for _ in range(500)]
    promoters = len([s for s in scores if s in (9, 10)])
    detractors = len([s for s in scores if s <= 6])
    assert nps(scores).value == pytest.approx(100 * (promoters - detractors) / 500)
    assert nps([10, 9, 8, 7, 0]).value == 20.0  # 2 promoters, 1 detractor, 2 passives of 5


def test_nps_runs_from_minus_100_to_100() -> None:
    assert nps([9, 10, 10]).value == 100.0
    assert nps([0, 6]).value == -100.0
    assert nps([7, 8]).value == 0.0
    assert nps([]).value is None


def test_ces_is_the_mean_effort_score() -> None:
    assert ces([7, 6, 5, 2]).value == 5.0
    assert ces([4]).n == 1
    assert ces([]).value is None


@pytest.mark.parametrize(
    ("kpi", "scores"), [(csat, [0]), (csat, [6]), (nps, [11]), (nps, [-1]), (ces, [8])]
)
def test_scores_off_the_scale_are_refused(kpi: object, scores: list[int]) -> None:
    with pytest.raises(ValueError, match="scores must be"):
        kpi(scores)  # type: ignore[operator]


# --- DORA ------------------------------------------------------------------------------------


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=BERLIN)


def test_deployment_frequency_counts_deploys_per_calendar_day_of_the_period() -> None:
    november = parse_period("2026-11", BERLIN)
    deploys = [at(d) for d in range(1, 31, 2)] + [datetime(2026, 12, 1, 0, 30, tzinfo=BERLIN)]
    value = deployment_frequency(deploys, november)
    assert value.value == pytest.approx(15 / 30)
    assert (value.n, value.tier) == (15, "high")


@pytest.mark.parametrize(
    ("deploys_in_november", "tier"),
    [(31, "elite"), (30, "high"), (5, "high"), (4, "medium"), (1, "medium"), (0, "low")],
)
def test_deployment_frequency_tiers(deploys_in_november: int, tier: str) -> None:
    november = parse_period("2026-11", BERLIN)
    deploys = [november.start + timedelta(hours=20 * i) for i in range(deploys_in_november)]
    assert all(d in november for d in deploys)
    assert deployment_frequency(deploys, november).tier == tier


def test_zero_deploys_is_a_frequency_of_zero_not_a_gap() -> None:
    value = deployment_frequency([], parse_period("2026-W48", BERLIN))
    assert (value.value, value.n, value.tier) == (0.0, 0, "low")
    assert value.note == "no deployments in the period"


def test_a_deploy_in_the_dst_hour_belongs_to_the_local_day() -> None:
    day = parse_period("2026-10-25", BERLIN)
    in_the_extra_hour = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 or 02:30 local
    late = datetime(2026, 10, 25, 22, 30, tzinfo=UTC)  # 23:30 local, still the 25th
    assert deployment_frequency([in_the_extra_hour, late], day).value == 2.0


@pytest.mark.parametrize(
    ("durations", "median_hours", "tier"),
    [
        ([2 * H, 5 * H, 30 * H], 5.0, "elite"),
        ([D], 24.0, "high"),
        ([6 * D], 144.0, "high"),
        ([7 * D, 8 * D, 9 * D], 192.0, "medium"),
        ([30 * D], 720.0, "low"),
    ],
)
def test_lead_time_is_the_median_with_its_tier(
    durations: list[timedelta], median_hours: float, tier: str
) -> None:
    value = lead_time(durations)
    assert (value.value, value.tier, value.unit) == (median_hours, tier, "h")


def test_lead_time_matches_the_statistics_median_on_generated_data() -> None:
    durations = generated_durations(11, 99)
    expected = statistics.median(d.total_seconds() for d in durations) / 3600
    assert lead_time(durations).value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("failed", "total", "tier"),
    [(0, 20, "elite"), (3, 20, "elite"), (4, 20, "medium"), (6, 20, "medium"), (7, 20, "low")],
)
def test_change_fail_rate_tiers(failed: int, total: int, tier: str) -> None:
    value = change_fail_rate(failed, total)
    assert value.value == pytest.approx(100 * failed / total)
    assert value.tier == tier


def test_change_fail_rate_without_deploys_is_no_data() -> None:
    value = change_fail_rate(0, 0)
    assert (value.value, value.tier) == (None, None)


@pytest.mark.parametrize(
    ("durations", "tier"),
    [
        ([timedelta(minutes=59)], "elite"),
        ([H], "high"),
        ([23 * H], "high"),
        ([D, 2 * D], "medium"),
        ([7 * D], "low"),
    ],
)
def test_failed_deployment_recovery_time_tiers(durations: list[timedelta], tier: str) -> None:
    assert failed_deployment_recovery_time(durations).tier == tier


def test_no_failed_deployments_give_no_recovery_time_and_no_tier() -> None:
    assert failed_deployment_recovery_time([]) == KpiValue(None, "h", 0, "no data")
    assert lead_time([]).tier is None


# --- SLO error budget ------------------------------------------------------------------------


def test_error_budget_remaining_is_what_the_slo_module_leaves() -> None:
    three_nines = Objective(99.9)
    assert error_budget_remaining(three_nines, Counts(99_950, 100_000)).value == pytest.approx(50)
    assert error_budget_remaining(three_nines, Counts(99_800, 100_000)).value == pytest.approx(-100)
    assert error_budget_remaining(three_nines, Counts(0, 0)).value is None


def test_a_100_percent_objective_has_no_budget_to_report() -> None:
    value = error_budget_remaining(Objective(100), Counts(9, 10))
    assert value.value is None and "no error budget" in value.note


# --- trends and no data ----------------------------------------------------------------------


def test_a_trend_says_which_way_the_kpi_moved_and_whether_that_is_good() -> None:
    up = trend(KpiValue(99.9, "%", 10), KpiValue(99.5, "%", 10), BETTER["availability"])
    assert (up.direction, up.improved) == ("up", True)
    assert up.change == pytest.approx(0.4)
    slower = trend(KpiValue(3.0, "h", 5), KpiValue(2.0, "h", 5), BETTER["mttr"])
    assert (slower.direction, slower.change, slower.improved) == ("up", 1.0, False)
    fewer = trend(KpiValue(1.0, "%", 5), KpiValue(4.0, "%", 5), BETTER["change_fail_rate"])
    assert (fewer.direction, fewer.improved) == ("down", True)


def test_a_flat_trend_is_neither_better_nor_worse() -> None:
    assert trend(KpiValue(5.0, "h", 1), KpiValue(5.0, "h", 2), "lower") == ("flat", 0.0, None)


def test_a_trend_against_no_data_has_no_direction() -> None:
    empty = KpiValue(None, "%", 0)
    assert trend(KpiValue(99.0, "%", 3), empty, "higher") == (None, None, None)
    assert trend(empty, KpiValue(99.0, "%", 3), "higher") == (None, None, None)


def test_every_kpi_has_a_good_direction() -> None:
    assert set(BETTER.values()) <= {"higher", "lower"}
    assert {"availability", "mtta", "mttr", "csat", "nps", "ces", "lead_time"} <= set(BETTER)


def test_no_kpi_ever_returns_nan_or_infinity_for_empty_input() -> None:
    period = parse_period("2026-11-27", BERLIN)
    values = [
        availability(0, 0),
        sla_compliance(0, 0),
        csat([]),
        nps([]),
        ces([]),
        change_fail_rate(0, 0),
        lead_time([]),
        failed_deployment_recovery_time([]),
        deployment_frequency([], period),
        error_budget_remaining(Objective(99.9), Counts(0, 0)),
        *mtta([]),
        *mttr([]),
        *backlog([]),
    ]
    for value in values:
        assert value.value is None or math.isfinite(value.value)
