"""The causal anomaly detector on series generated here: what an on-call engineer would notice."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from postdeploy.domain.anomalies import Detector, DetectorConfig, detect


def noise(seed: int, n: int, level: float = 50.0, sd: float = 2.0) -> list[float]:
    return [float(v) for v in np.random.default_rng(seed).normal(level, sd, n)]


def daily(seed: int, n: int, period: int = 96) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return [float(v) for v in 50 + 10 * np.sin(2 * np.pi * t / period) + rng.normal(0, 1, n)]


def alerts(values: list[float]) -> list[int]:
    return [i for i, (_, alert) in enumerate(detect(values)) if alert]


def test_decisions_for_earlier_points_do_not_change_when_later_points_are_appended_or_changed() -> (
    None
):
    series = daily(1, 1200)
    first = detect(series[:700])
    assert detect(series)[:700] == first
    wild = series[:700] + [v * 5 + 300 for v in series[700:]]
    assert detect(wild)[:700] == first


@pytest.mark.parametrize("seed", range(4))
def test_a_level_shift_is_alerted_within_a_few_points_of_its_onset(seed: int) -> None:
    series = noise(seed, 1000)
    shifted = series[:700] + [v + 12 for v in series[700:]]
    assert any(700 <= i <= 705 for i in alerts(shifted))


@pytest.mark.parametrize("seed", range(4))
def test_a_single_spike_is_alerted_at_the_spike(seed: int) -> None:
    series = noise(seed, 1000)
    series[600] += 30
    assert 600 in alerts(series)


def test_a_drop_in_a_daily_pattern_is_alerted_while_it_happens() -> None:
    series = daily(2, 2000)
    dropped = series[:1500] + [50.0 + v / 10 for v in series[1500:1600]] + series[1600:]
    assert any(1500 <= i < 1600 for i in alerts(dropped))


@pytest.mark.parametrize("make", [noise, daily], ids=["white noise", "daily pattern"])
def test_a_stable_noisy_series_raises_few_alerts(make: Callable[[int, int], list[float]]) -> None:
    raised = [alerts(make(seed, 3000)) for seed in range(3)]
    assert all(len(found) <= 5 for found in raised), raised


def test_a_constant_or_exactly_repeating_series_raises_no_alert() -> None:
    square = [20.0 if (i % 96) < 48 else 80.0 for i in range(3000)]
    assert alerts([42.0] * 2000) == []
    assert alerts(square) == []


def test_scores_are_between_zero_and_one_and_half_or_more_where_alerted() -> None:
    series = noise(3, 2000)
    series[1500] += 50
    results = detect(series)
    assert all(0.0 <= score < 1.0 for score, _ in results)
    assert all(score >= 0.5 for score, alert in results if alert)
    assert max(score for score, _ in results) == results[1500][0]


def test_the_same_series_gives_the_same_scores_and_alerts_every_time() -> None:
    series = daily(4, 1500)
    streamed = Detector()
    assert detect(series) == detect(series) == [streamed.update(v) for v in series]


def test_nothing_is_alerted_while_the_detector_is_still_learning() -> None:
    series = noise(5, 400)
    series[100] += 1000
    found = alerts(series)
    assert all(i >= DetectorConfig().warmup for i in found)


def test_an_alert_is_not_repeated_during_the_quiet_period_of_a_lasting_change() -> None:
    series = noise(6, 1500)
    chaotic = series[:1000] + [v * 8 - 350 for v in series[1000:]]
    found = alerts(chaotic)
    assert any(1000 <= i <= 1005 for i in found)
    assert len([i for i in found if 1000 <= i <= 1000 + DetectorConfig().quiet]) == 1


@pytest.mark.parametrize("missing", [math.nan, math.inf, -math.inf])
def test_missing_values_score_zero_and_do_not_change_the_other_decisions(missing: float) -> None:
    series = noise(7, 1000)
    series[800] += 30
    gappy = series[:300] + [missing] * 5 + series[300:]
    with_gap = detect(gappy)
    assert with_gap[300:305] == [(0.0, 0)] * 5
    assert with_gap[:300] + with_gap[305:] == detect(series)


def test_a_configuration_without_time_scales_is_refused() -> None:
    with pytest.raises(ValueError, match="scales"):
        DetectorConfig(scales=())
