"""Survey scores and their 95% intervals against independent computations: SciPy's Wilson and
t intervals, a bootstrap, a coverage simulation and hand-worked values."""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, datetime

import pytest
from scipy import stats

from postdeploy.domain.kpi import ces, csat, nps
from postdeploy.domain.periods import parse_period
from postdeploy.domain.surveys import (
    NONE,
    Response,
    by_group,
    by_period,
    ces_estimate,
    csat_estimate,
    nps_estimate,
    scores,
    t975,
    wilson,
)


def answer(i: int, nps: int | None = None, csat: int | None = None, ces: int | None = None,
           segment: str | None = None, day: int = 1) -> Response:  # fmt: skip
    at = datetime(2026, 10, day, 12, tzinfo=UTC)
    return Response("test", f"r{i}", at, nps, csat, ces, "shop", segment, None)


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (8, 10), (0, 25), (25, 25), (37, 120), (3, 7)])
def test_the_csat_interval_is_scipys_wilson_interval(k: int, n: int) -> None:
    expected = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert wilson(k, n) == pytest.approx((expected.low, expected.high), abs=1e-9)


def test_csat_of_eight_satisfied_out_of_ten_is_80_percent_between_49_and_94() -> None:
    e = csat_estimate([5, 5, 4, 4, 4, 5, 4, 5, 2, 1])
    assert e.kpi == csat([5, 5, 4, 4, 4, 5, 4, 5, 2, 1])  # the one definition of CSAT
    assert e.kpi.value == 80.0 and e.kpi.n == 10
    assert (round(e.low or 0, 1), round(e.high or 0, 1)) == (49.0, 94.3)  # textbook Wilson


def test_the_nps_interval_is_the_adjusted_wald_interval_worked_by_hand() -> None:
    # 50 promoters, 30 passives, 20 detractors: add 3/4 to promoters and detractors, 3 to n
    scores_ = [10] * 50 + [8] * 30 + [3] * 20
    e = nps_estimate(scores_)
    assert e.kpi == nps(scores_) and e.kpi.value == 30.0
    p, d = 50.75 / 103, 20.75 / 103
    se = math.sqrt((p + d - (p - d) ** 2) / 103)
    assert (e.low, e.high) == pytest.approx(
        (100 * (p - d - 1.959964 * se), 100 * (p - d + 1.959964 * se)), abs=1e-4
    )
    assert (round(e.low or 0, 1), round(e.high or 0, 1)) == (14.1, 44.2)


def test_the_nps_interval_agrees_with_a_bootstrap_of_generated_answers() -> None:
    rng = random.Random(7)
    answers = rng.choices([10, 9, 8, 7, 6, 3, 0], weights=[25, 20, 15, 10, 12, 10, 8], k=400)
    e = nps_estimate(answers)
    values = [1 if a >= 9 else -1 if a <= 6 else 0 for a in answers]
    boots = sorted(100 * statistics.fmean(rng.choices(values, k=len(values))) for _ in range(4000))
    low, high = boots[100], boots[3899]  # the 2.5th and 97.5th percentiles
    assert e.low == pytest.approx(low, abs=2.0) and e.high == pytest.approx(high, abs=2.0)


def test_the_nps_interval_covers_the_true_score_about_95_times_in_100() -> None:
    rng = random.Random(11)
    truth = 100 * (0.45 - 0.25)  # 45% promoters, 30% passives, 25% detractors
    trials = 3000
    hits = 0
    for _ in range(trials):
        sample = rng.choices([10, 8, 2], weights=[45, 30, 25], k=40)
        e = nps_estimate(sample)
        assert e.low is not None and e.high is not None
        hits += e.low <= truth <= e.high
    assert 0.93 <= hits / trials <= 0.97


def test_a_small_sample_of_only_promoters_still_has_an_honest_interval() -> None:
    e = nps_estimate([10, 9, 10, 10, 9])
    assert e.kpi.value == 100.0
    assert e.low is not None and e.high is not None
    assert e.high <= 100.0 and e.low < 60  # not a zero-width interval at 100 from five answers


def test_the_ces_interval_is_scipys_t_interval_of_generated_answers() -> None:
    rng = random.Random(3)
    for n in (2, 5, 31, 200):
        answers = [rng.randint(2, 6) for _ in range(n)]
        e = ces_estimate(answers)
        assert e.kpi == ces(answers)
        low, high = stats.t.interval(
            0.95, n - 1, loc=statistics.fmean(answers), scale=stats.sem(answers)
        )
        assert (e.low, e.high) == pytest.approx((max(1, low), min(7, high)), abs=1e-5)


def test_the_t_quantile_matches_scipy_for_every_degree_of_freedom() -> None:
    for df in range(1, 3000):
        assert t975(df) == pytest.approx(stats.t.ppf(0.975, df), abs=1e-6)


def test_one_ces_answer_has_a_value_but_no_interval() -> None:
    e = ces_estimate([6])
    assert (e.kpi.value, e.low, e.high) == (6.0, None, None)


def test_no_answers_give_no_data_never_zero_or_nan() -> None:
    empty = scores([])
    assert empty.responses == 0
    for _, e in empty.items():
        assert (e.kpi.value, e.low, e.high, e.kpi.n, e.kpi.note) == (None, None, None, 0, "no data")


def test_each_score_counts_only_the_responses_that_answered_it() -> None:
    rows = [answer(1, nps=10), answer(2, nps=0, csat=5), answer(3, csat=2, ces=7)]
    s = scores(rows)
    assert (s.responses, s.nps.kpi.n, s.csat.kpi.n, s.ces.kpi.n) == (3, 2, 2, 1)
    assert (s.nps.kpi.value, s.csat.kpi.value, s.ces.kpi.value) == (0.0, 50.0, 7.0)


def test_scores_per_segment_put_the_largest_first_and_name_the_unsegmented() -> None:
    rows = [answer(1, nps=10, segment="pro"), answer(2, nps=0, segment="free"),
            answer(3, nps=3, segment="free"), answer(4, nps=9)]  # fmt: skip
    groups = by_group(rows, lambda r: r.segment)
    assert list(groups) == ["free", NONE, "pro"]
    assert groups["free"].nps.kpi.value == -100.0 and groups[NONE].nps.kpi.n == 1


def test_a_period_without_answers_has_no_data_beside_one_with_answers() -> None:
    tz = UTC
    october, september = parse_period("2026-10", tz), parse_period("2026-09", tz)
    found = by_period([answer(1, nps=9, csat=4, day=3)], [september, october])
    assert found["2026-09"].nps.kpi.value is None and found["2026-09"].csat.low is None
    assert found["2026-10"].nps.kpi.value == 100.0
