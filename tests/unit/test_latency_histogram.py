"""p95 from the check_daily latency histogram stays within its documented bound."""

from __future__ import annotations

import random

import pytest

from postdeploy.domain.uptime import (
    LATENCY_BOUNDS,
    LATENCY_BUCKETS,
    LATENCY_STEP,
    histogram_percentile,
    latency_bucket,
    percentile,
)


def p95_from_histogram(values: list[float]) -> float | None:
    counts = [0] * LATENCY_BUCKETS
    for v in values:
        counts[latency_bucket(v)] += 1
    return histogram_percentile(counts, 95, lowest=min(values), highest=max(values))


def test_buckets_are_quarter_octaves_from_1_ms_to_32768_ms() -> None:
    assert (LATENCY_BOUNDS[0], LATENCY_BOUNDS[-1], LATENCY_BUCKETS) == (1.0, 32768.0, 62)
    assert [latency_bucket(v) for v in (0.2, 1.0, 1.1, 2.0, 2.01, 32768.0, 40000.0)] == [
        0, 0, 1, 4, 5, 60, 61,
    ]  # fmt: skip


@pytest.mark.parametrize("seed", range(30))
def test_p95_is_never_below_the_exact_value_and_at_most_one_bucket_above(seed: int) -> None:
    rng = random.Random(seed)
    values = [rng.lognormvariate(rng.uniform(0, 8), rng.uniform(0.1, 2)) for _ in range(500)]
    exact, approx = percentile(values, 95), p95_from_histogram(values)
    assert exact is not None and approx is not None
    if exact <= 1:
        assert exact <= approx <= 1.0
    elif exact > LATENCY_BOUNDS[-1]:
        assert approx == max(values)
    else:
        assert exact <= approx <= exact * LATENCY_STEP


def test_a_single_value_and_no_values() -> None:
    assert p95_from_histogram([200.0]) == 200.0  # clamped to what was seen
    assert histogram_percentile([0] * LATENCY_BUCKETS, 95, lowest=0, highest=0) is None
