from postdeploy.domain.perfreview import DAY, WEEK, Deploy, review

NOW = 100 * DAY


def hourly(level_before: float, level_after: float, change_at: float) -> list[tuple[float, float]]:
    return [
        (t, level_after if t >= change_at else level_before)
        for t in range(int(NOW - 2 * WEEK), int(NOW), 3600)
    ]


def by_series(changes: list) -> dict:  # type: ignore[type-arg]
    return {c.series: c for c in changes}


def test_a_latency_rise_after_a_deploy_is_a_regression_blamed_on_that_deploy() -> None:
    change_at = NOW - 3 * DAY
    points = {"latency_p95_ms": hourly(100, 150, change_at)}
    deploys = [
        Deploy(NOW - 10 * DAY, "1.0"),
        Deploy(change_at - 600, "1.1"),
        Deploy(NOW - DAY, "1.2"),
    ]
    c = by_series(review(points, deploys, NOW))["latency_p95_ms"]
    assert c.regressed and c.last_week == 100 and c.recent == 150
    assert round(c.change_pct) == 50
    assert c.suspect == Deploy(change_at - 600, "1.1")  # not the later 1.2: it came after


def test_small_wobbles_are_not_regressions() -> None:
    points = {
        "latency_p95_ms": hourly(100, 110, NOW - 3 * DAY),
        "error_rate": hourly(0.01, 0.012, NOW - DAY),
    }
    changes = by_series(review(points, [], NOW))
    assert not changes["latency_p95_ms"].regressed and not changes["error_rate"].regressed


def test_an_error_rate_jump_counts_and_a_traffic_drop_counts_the_other_way() -> None:
    points = {
        "error_rate": hourly(0.002, 0.03, NOW - 2 * DAY),
        "throughput_rps": hourly(50, 20, NOW - 2 * DAY),
    }
    changes = by_series(review(points, [], NOW))
    assert changes["error_rate"].regressed and changes["error_rate"].suspect is None
    assert (
        changes["throughput_rps"].regressed and round(changes["throughput_rps"].change_pct) == -60
    )


def test_missing_data_is_no_verdict_rather_than_a_guess() -> None:
    only_this_week = {"latency_p50_ms": [(NOW - DAY, 50.0)]}
    c = by_series(review(only_this_week, [], NOW))["latency_p50_ms"]
    assert c.last_week is None and c.this_week == 50.0 and not c.regressed
