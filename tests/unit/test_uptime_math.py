from postdeploy.domain.uptime import bar_level, format_percent, percentile, uptime_percent


def test_no_measurements_is_no_data_not_zero_or_full() -> None:
    assert uptime_percent(0, 0) is None
    assert format_percent(None) == "no data"
    assert bar_level(0, 0) == "nodata"


def test_uptime_is_the_share_of_successful_checks() -> None:
    assert uptime_percent(999, 1000) == 99.9
    assert format_percent(uptime_percent(2, 3)) == "66.667%"


def test_nearest_rank_percentile() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 95) == 95.0
    assert percentile(values, 50) == 50.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 95) is None


def test_bar_colours_follow_status_page_conventions() -> None:
    assert bar_level(1000, 1000) == "good"
    assert bar_level(995, 1000) == "minor"
    assert bar_level(960, 1000) == "partial"
    assert bar_level(900, 1000) == "major"
