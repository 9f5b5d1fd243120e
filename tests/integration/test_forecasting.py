"""Holt-Winters forecasts (statsmodels, for real) on synthetic histories with known answers."""

from __future__ import annotations

import math
import random

import pytest

from postdeploy.adapters.forecasting import forecast, plan
from postdeploy.domain.capacity import DAY, HOUR, HistoryError, assess

T0 = 1_790_000_000 // DAY * DAY


def truth(t: float) -> float:
    """100, growing 2 a day, with a daily cycle of +-10 peaking at 06:00."""
    return 100 + 2 * (t - T0) / DAY + 10 * math.sin(2 * math.pi * (t % DAY) / DAY)


def history(
    days: float, step: float = 300.0, noise: float = 2.0, seed: int = 1
) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    times = [T0 + i * step for i in range(int(days * DAY / step))]
    return [(t, truth(t) + rng.gauss(0, noise)) for t in times]


def first_crossing(after: float, threshold: float) -> float:
    t = after
    while truth(t) < threshold:
        t += 60
    return t


def test_a_trend_with_a_daily_cycle_crosses_its_threshold_when_the_truth_does() -> None:
    points = history(28)
    f = forecast(points, horizon_s=30 * DAY)
    assert f.seasonality.name == "daily" and "Holt-Winters" in f.method
    assert f.history.step == HOUR and len(f.times) == 30 * 24
    a = assess("svc", "cpu_cores", f, 200.0)
    true_days = (first_crossing(f.last_time, 200.0) - f.last_time) / DAY  # about 17.2
    assert a.days == pytest.approx(true_days, abs=1.0)
    assert a.urgency == "soon" and a.days_earliest is not None and a.days_earliest <= a.days
    assert f.mape is not None and f.mape < 5  # noise of 2 on a level of about 150


def test_the_interval_holds_most_of_what_happened_next() -> None:
    points = history(35, noise=4.0, seed=7)
    cut = T0 + 28 * DAY
    f = forecast([p for p in points if p[0] < cut], horizon_s=7 * DAY)
    future = {round(t): v for t, v in points if t >= cut}
    inside = total = 0
    for t, lo, hi in zip(f.times, f.lower, f.upper, strict=True):
        near = [v for ts, v in future.items() if abs(ts - t) <= HOUR / 2]
        if near:
            total += 1
            inside += lo <= sum(near) / len(near) <= hi
    assert total > 150 and inside / total >= 0.8
    assert all(lo <= m <= hi for lo, m, hi in zip(f.lower, f.mean, f.upper, strict=True))


def test_less_than_two_days_falls_back_to_holt_without_a_season() -> None:
    f = forecast(history(1.5), horizon_s=2 * DAY)
    assert f.seasonality.name is None and f.method.startswith("Holt (additive trend, no season)")
    assert all(map(math.isfinite, f.mean + f.lower + f.upper))


def test_a_constant_history_gives_a_flat_forecast_without_nan() -> None:
    f = forecast([(T0 + h * HOUR, 0.5) for h in range(48)], horizon_s=DAY)
    assert set(f.mean) == {0.5} and f.lower == f.mean == f.upper and f.mape == 0.0


def test_an_all_zero_history_has_no_backtest_error_rather_than_nan() -> None:
    f = forecast([(T0 + h * HOUR, 0.0) for h in range(48)], horizon_s=DAY)
    assert f.mape is None and set(f.mean) == {0.0}


def test_a_forecast_never_goes_below_zero() -> None:
    falling = [(T0 + h * HOUR, max(0.0, 50 - h)) for h in range(48)]
    f = forecast(falling, horizon_s=5 * DAY)
    assert min(f.lower) >= 0 and min(f.mean) >= 0


def test_too_little_history_is_a_clear_error() -> None:
    with pytest.raises(HistoryError, match=r"not enough history \(6 points"):
        forecast([(T0 + h * HOUR, h) for h in range(6)], horizon_s=DAY)


def test_plan_assesses_every_series_and_says_why_one_has_no_forecast() -> None:
    memory = [(T0 + h * HOUR, 1e8 + 1e6 * h) for h in range(120)]  # 2.19e8 at the end
    items = plan(
        {("api", "memory_bytes"): memory, ("api", "cpu_cores"): [(T0, 1.0)]},
        {("api", "memory_bytes"): 3e8, ("api", "disk_used_ratio"): 0.85},
        horizon_s=10 * DAY,
    )
    assert [(a.resource, a.urgency) for a in items] == [
        ("memory_bytes", "urgent"),
        ("cpu_cores", "no forecast"),
        ("disk_used_ratio", "no forecast"),
    ]
    assert items[0].days == pytest.approx(81 / 24, abs=0.2)  # (3e8 - 2.19e8) / 1e6 an hour
    assert "not enough history (1 points" in (items[1].error or "")
    assert items[2].error == "no history in the store (collect-metrics stores it)"
