"""Capacity planning, the pure part: grids, seasonality, crossings, MAPE, urgency."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
import yaml

from postdeploy.catalog import CatalogError, load_catalog
from postdeploy.domain.capacity import (
    DAY,
    HOUR,
    Forecast,
    Grid,
    HistoryError,
    Seasonality,
    assess,
    choose_step,
    crossing,
    detect_seasonality,
    detect_trend,
    format_days,
    format_value,
    mape,
    parse_quantity,
    rank,
    resample,
)

T0 = 1_790_000_000 // DAY * DAY  # a midnight, UTC


def hourly(days: int, f: object, noise: float = 0.0, seed: int = 3) -> list[float]:
    rng = random.Random(seed)
    return [f(i) + rng.gauss(0, noise) for i in range(days * 24)]  # type: ignore[operator]


def test_five_minute_samples_over_a_month_become_hourly_means() -> None:
    points = [(T0 + i * 300.0, float(i // 12)) for i in range(30 * 24 * 12)]
    grid = resample(points)
    assert grid.step == HOUR and grid.start == T0
    assert len(grid.values) == 30 * 24 + 1  # the last slot holds the samples nearest its hour
    # the slot of hour h holds the samples within half an hour of it: 6 of hour h-1, 6 of h
    assert grid.values[5] == pytest.approx(4.5)


def test_the_grid_step_follows_the_data_and_the_span() -> None:
    assert choose_step([T0 + i * 60.0 for i in range(12 * 60)]) == 60  # 12 h of minutes
    assert choose_step([T0 + i * 60.0 for i in range(30 * 1440)]) == HOUR  # a month of minutes
    assert choose_step([T0 + i * DAY for i in range(90)]) == DAY


def test_a_short_gap_is_filled_with_a_straight_line() -> None:
    points = [(T0 + h * HOUR, float(h)) for h in range(24) if h not in (10, 11, 12)]
    grid = resample(points, step=HOUR)
    assert grid.values[9:14] == pytest.approx((9, 10, 11, 12, 13))


def test_a_long_gap_is_an_error_naming_it() -> None:
    points = [(T0 + h * HOUR, 1.0 + h) for h in range(48) if not 10 <= h < 30]
    gap = r"gap of 21h in the history, from .* 09:00 UTC to .* 06:00 UTC"
    with pytest.raises(HistoryError, match=gap):
        resample(points, step=HOUR)


def test_after_a_long_gap_the_trailing_history_can_be_used_instead() -> None:
    points = [(T0 + h * HOUR, 1.0 + h) for h in range(60) if not 10 <= h < 30]
    grid = resample(points, step=HOUR, on_gap="trailing")
    assert grid.start == T0 + 30 * HOUR and len(grid.values) == 30
    assert "after a gap of 21h" in grid.note


def test_too_little_history_says_how_much_there_is_and_is_needed() -> None:
    with pytest.raises(HistoryError, match=r"not enough history \(5 points at 1h steps, need 12\)"):
        resample([(T0 + h * HOUR, 1.0) for h in range(5)], step=HOUR)
    with pytest.raises(HistoryError, match=r"0 points"):
        resample([])


def test_a_non_finite_value_is_refused() -> None:
    with pytest.raises(HistoryError, match="not a finite number"):
        resample([(T0, 1.0), (T0 + 60, math.nan)])


def test_a_daily_cycle_is_detected_through_a_trend_and_noise() -> None:
    values = hourly(14, lambda i: 50 + 0.3 * i + 10 * math.sin(2 * math.pi * i / 24), noise=2)
    season = detect_seasonality(values, HOUR)
    assert (season.name, season.period) == ("daily", 24) and season.strength > 0.8


def test_trend_and_noise_alone_have_no_season() -> None:
    season = detect_seasonality(hourly(14, lambda i: 50 + 0.3 * i, noise=2), HOUR)
    assert season.name is None and season.period is None
    assert "daily: autocorrelation" in season.note


def test_a_random_walk_is_not_mistaken_for_a_season() -> None:
    rng = random.Random(5)
    walk = [0.0]
    for _ in range(24 * 21 - 1):
        walk.append(walk[-1] + rng.gauss(0, 1))
    assert detect_seasonality(walk, HOUR).name is None


def test_quiet_weekends_make_the_cycle_weekly() -> None:
    def load(i: int) -> float:
        weekend = (i // 24) % 7 >= 5
        return (20 if weekend else 100) * (1 + 0.5 * math.sin(2 * math.pi * i / 24))

    season = detect_seasonality(hourly(28, load, noise=3), HOUR)
    assert (season.name, season.period) == ("weekly", 168)


def test_less_than_two_cycles_of_history_cannot_show_a_season() -> None:
    values = hourly(1, lambda i: math.sin(2 * math.pi * i / 24))
    season = detect_seasonality(values, HOUR)
    assert season.name is None and "daily: needs two cycles, 2d of history" in season.note


def test_a_linear_path_crosses_where_the_algebra_says() -> None:
    # y = 40 + 2.5 per day from the last sample; 100 is reached after (100 - 40) / 2.5 = 24 days
    times = [T0 + (h + 1) * HOUR for h in range(30 * 24)]
    path = [40 + 2.5 * (t - T0) / DAY for t in times]
    assert crossing(T0, 40.0, times, path, 100.0) / DAY == pytest.approx(24.0)
    assert crossing(T0, 40.0, times, path, 113.0) / DAY == pytest.approx(29.2)
    assert crossing(T0, 40.0, times, path, 200.0) is None
    assert crossing(T0, 120.0, times, path, 100.0) == 0.0


def test_mape_matches_a_direct_computation_and_skips_zero_actuals() -> None:
    actual, predicted = [100.0, 200.0, 0.0, 50.0], [110.0, 190.0, 5.0, 60.0]
    expected = (10 / 100 + 10 / 200 + 10 / 50) / 3 * 100
    assert mape(actual, predicted) == pytest.approx(expected)
    assert mape([0.0, 0.0], [1.0, 2.0]) is None


def fake_forecast(slope_per_day: float, last: float = 50.0, spread: float = 5.0) -> Forecast:
    grid = Grid(T0 - 99 * HOUR, HOUR, tuple(last for _ in range(100)))
    times = tuple(T0 + (h + 1) * HOUR for h in range(30 * 24))
    mean = tuple(last + slope_per_day * (t - T0) / DAY for t in times)
    season = Seasonality(None, None, 0.0, "none")
    return Forecast(
        grid, times, mean, tuple(m - spread for m in mean), tuple(m + spread for m in mean),
        0.95, "Holt", season, 4.2, 20,
    )  # fmt: skip


def test_urgency_follows_the_days_until_the_threshold() -> None:
    f = fake_forecast(slope_per_day=1.0)  # 50 now, +1 a day, interval +-5
    assert assess("a", "cpu_cores", f, 45.0).urgency == "over"
    assert assess("a", "cpu_cores", f, 53.0).urgency == "urgent"  # 3 days
    assert assess("a", "cpu_cores", f, 70.0).urgency == "soon"  # 20 days
    late = assess("a", "cpu_cores", fake_forecast(0.5), 65.0)  # 30 days: the last point
    assert late.urgency == "later" and late.days == pytest.approx(30.0)
    watch = assess("a", "cpu_cores", f, 84.0)  # mean 80 at 30 d, upper bound 85
    assert watch.urgency == "watch" and watch.days is None and watch.days_earliest < 30
    assert assess("a", "cpu_cores", f, 500.0).urgency == "ok"
    assert assess("a", "cpu_cores", f, None).urgency == "no threshold"
    assert assess("a", "cpu_cores", "not enough history", 1.0).urgency == "no forecast"


def test_recommendations_come_most_urgent_first() -> None:
    f = fake_forecast(1.0)
    items = [
        assess("b", "memory_bytes", f, 500.0),
        assess("c", "cpu_cores", "no history", 2.0),
        assess("a", "cpu_cores", f, 70.0),
        assess("z", "disk_used_ratio", f, 40.0),
        assess("a", "throughput_rps", f, 60.0),
    ]
    order = [(a.service, a.resource, a.urgency) for a in rank(items)]
    assert order == [
        ("z", "disk_used_ratio", "over"),
        ("a", "throughput_rps", "soon"),  # 10 days
        ("a", "cpu_cores", "soon"),  # 20 days
        ("b", "memory_bytes", "ok"),
        ("c", "cpu_cores", "no forecast"),
    ]


def test_the_recommendation_says_when_and_what_to_do() -> None:
    a = assess("shop", "memory_bytes", fake_forecast(2**30 / 10, last=2**30), 2 * 2**30)
    text = a.recommendation
    assert text.startswith("shop memory: forecast reaches 2.00 GiB in 10.0 d (around")
    assert "as early as" in text and "raise the memory limit" in text.lower()
    assert "no forecast: no history" in assess("shop", "cpu_cores", "no history", 1).recommendation


@pytest.mark.parametrize(
    ("text", "value"),
    [("2GiB", 2 * 2**30), ("512 MiB", 512 * 2**20), ("500MB", 500e6), ("85%", 0.85),
     ("1.5", 1.5), (2, 2.0), ("1e3", 1000.0)],
)  # fmt: skip
def test_thresholds_are_written_as_people_write_them(text: object, value: float) -> None:
    assert parse_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["lots", "2 parsecs", "nan", True, ""])
def test_a_threshold_that_is_not_a_quantity_is_refused(text: object) -> None:
    with pytest.raises(ValueError, match="number|unit"):
        parse_quantity(text)


def test_values_are_shown_in_the_unit_of_their_resource() -> None:
    assert format_value("memory_bytes", 1.5 * 2**30) == "1.50 GiB"
    assert format_value("disk_used_ratio", 0.853) == "85.3%"
    assert format_value("cpu_cores", 0.25) == "0.25 cores"
    assert format_value("throughput_rps", 12.34) == "12.3 rps"
    assert format_days(None) == "not within horizon" and format_days(0) == "now"


def test_the_catalog_takes_capacity_thresholds_and_names_a_bad_one(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    service = {"name": "shop", "capacity": {"memory_bytes": "2GiB", "disk_used_ratio": "85%"}}
    file.write_text(yaml.safe_dump({"services": [service]}))
    capacity = load_catalog(file).service("shop").capacity
    assert capacity.thresholds() == {
        "cpu_cores": None, "memory_bytes": 2 * 2**30, "disk_used_ratio": 0.85,
        "throughput_rps": None,
    }  # fmt: skip
    service["capacity"] = {"disk_used_ratio": "185%", "memory": "1GiB"}
    file.write_text(yaml.safe_dump({"services": [service]}))
    with pytest.raises(CatalogError) as err:
        load_catalog(file)
    assert err.value.problems == [
        "services[0].capacity.disk_used_ratio: Input should be less than or equal to 1",
        "services[0].capacity.memory: Extra inputs are not permitted",
    ]


def test_a_slope_through_the_daily_means_is_a_trend_and_a_flat_cycle_is_not() -> None:
    def cycle(i: int) -> float:
        return 10 * math.sin(2 * math.pi * i / 24)

    daily, none = Seasonality("daily", 24, 0.9, ""), Seasonality(None, None, 0.0, "")
    rising = detect_trend(hourly(30, lambda i: 50 + 0.05 * i + cycle(i), noise=3), daily)
    assert rising.present and rising.slope == pytest.approx(0.05, rel=0.1) and rising.t > 10
    flat = detect_trend(hourly(30, lambda i: 50 + cycle(i), noise=3), daily)
    assert not flat.present and "none (t = " in flat.note
    assert detect_trend(hourly(30, lambda i: 50.0 - 0.1 * i), none).present  # falling counts
    assert not detect_trend([7.0] * 200, none).present
    # too little to tell: the cautious choice
    assert "assumed" in detect_trend(hourly(3, lambda i: 50 + cycle(i)), daily).note
    short = detect_seasonality(hourly(1, lambda i: 50 + cycle(i)), HOUR)
    assert short.too_short and detect_trend(hourly(1, cycle), short).present
