"""Report periods: labels, bounds in the catalog's zone, previous/following, iteration."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from postdeploy.domain.periods import (
    following,
    iterate,
    parse_period,
    period_of,
    previous,
)

BERLIN = ZoneInfo("Europe/Berlin")


def local(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("label", "kind", "start", "end"),
    [
        ("2026-11-27", "day", local(2026, 11, 27), local(2026, 11, 28)),
        ("2026-W48", "week", local(2026, 11, 23), local(2026, 11, 30)),
        ("2026-11", "month", local(2026, 11, 1), local(2026, 12, 1)),
        ("2026-Q4", "quarter", local(2026, 10, 1), local(2027, 1, 1)),
        ("2026-12", "month", local(2026, 12, 1), local(2027, 1, 1)),
    ],
)
def test_each_label_form_names_local_midnight_to_local_midnight(
    label: str, kind: str, start: datetime, end: datetime
) -> None:
    period = parse_period(label, BERLIN)
    assert (period.kind, period.label, period.start, period.end) == (kind, label, start, end)
    assert period.start.tzinfo is BERLIN


@pytest.mark.parametrize(
    "label", ["2026-13", "2026-W54", "2026-W00", "2026-Q5", "2026-Q0", "2026-02-30", "26-11", ""]
)
def test_a_bad_label_raises_and_names_the_accepted_forms(label: str) -> None:
    with pytest.raises(ValueError, match=r"2026-W48 \(ISO week\)"):
        parse_period(label, BERLIN)


def test_the_day_the_clocks_go_back_in_berlin_lasts_25_hours() -> None:
    day = parse_period("2026-10-25", BERLIN)
    assert day.elapsed == timedelta(hours=25)
    assert day.days == 1


def test_the_day_the_clocks_go_forward_in_berlin_lasts_23_hours() -> None:
    day = parse_period("2026-03-29", BERLIN)
    assert day.elapsed == timedelta(hours=23)


def test_a_month_across_the_dst_change_starts_and_ends_at_local_midnight() -> None:
    october = parse_period("2026-10", BERLIN)
    assert october.start.astimezone(UTC) == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert october.end.astimezone(UTC) == datetime(2026, 10, 31, 23, tzinfo=UTC)
    assert october.days == 31
    assert october.elapsed == timedelta(days=31, hours=1)
    assert parse_period("2026-W43", BERLIN).elapsed == timedelta(days=7, hours=1)
    assert parse_period("2026-Q1", BERLIN).elapsed == timedelta(days=90, hours=-1)


def test_a_moment_belongs_to_the_local_day_not_the_utc_day() -> None:
    moment = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # 00:30 on the 27th in Berlin
    assert moment in parse_period("2026-11-27", BERLIN)
    assert moment not in parse_period("2026-11-26", BERLIN)
    assert period_of("day", moment, BERLIN).label == "2026-11-27"
    assert period_of("day", moment, UTC).label == "2026-11-26"


def test_iso_weeks_belong_to_the_iso_year_at_year_boundaries() -> None:
    assert period_of("week", local(2027, 1, 1), BERLIN).label == "2026-W53"
    assert parse_period("2026-W53", BERLIN).start == local(2026, 12, 28)
    assert period_of("week", local(2025, 12, 30), BERLIN).label == "2026-W01"
    assert following(parse_period("2026-W53", BERLIN)).label == "2027-W01"


@pytest.mark.parametrize(
    ("label", "before"),
    [
        ("2026-11-27", "2026-11-26"),
        ("2026-01-01", "2025-12-31"),
        ("2026-W01", "2025-W52"),
        ("2026-03", "2026-02"),
        ("2026-01", "2025-12"),
        ("2026-Q1", "2025-Q4"),
        ("2026-Q4", "2026-Q3"),
    ],
)
def test_previous_is_the_period_of_the_same_kind_just_before(label: str, before: str) -> None:
    period = parse_period(label, BERLIN)
    assert previous(period).label == before
    assert previous(period).end == period.start
    assert following(previous(period)) == period


def test_periods_of_every_kind_tile_the_calendar_without_gaps_or_overlaps() -> None:
    for kind, first, last in [
        ("day", "2026-01-01", "2026-12-31"),
        ("week", "2026-W01", "2026-W53"),
        ("month", "2026-01", "2026-12"),
        ("quarter", "2026-Q1", "2026-Q4"),
    ]:
        tiled = list(iterate(parse_period(first, BERLIN), parse_period(last, BERLIN)))
        assert all(a.end == b.start for a, b in zip(tiled, tiled[1:], strict=False)), kind
        assert all(p.kind == kind for p in tiled)
    days = list(iterate(parse_period("2026-01-01", BERLIN), parse_period("2026-12-31", BERLIN)))
    assert [p.start.date() for p in days] == [
        date(2026, 1, 1) + timedelta(days=i) for i in range(365)
    ]
    assert (
        sum(
            p.days
            for p in iterate(parse_period("2026-Q1", BERLIN), parse_period("2026-Q4", BERLIN))
        )
        == 365
    )


def test_iterating_backwards_yields_nothing_and_mixed_kinds_are_refused() -> None:
    assert list(iterate(parse_period("2026-12", BERLIN), parse_period("2026-11", BERLIN))) == []
    with pytest.raises(ValueError, match="cannot iterate"):
        list(iterate(parse_period("2026-11", BERLIN), parse_period("2026-Q4", BERLIN)))


def test_a_label_round_trips_through_the_period_it_names() -> None:
    for label in ["2026-11-27", "2026-W48", "2026-11", "2026-Q4", "2020-W53", " 2026-Q1 "]:
        period = parse_period(label, BERLIN)
        assert parse_period(period.label, BERLIN) == period
        assert period_of(period.kind, period.start, BERLIN) == period
        assert period_of(period.kind, period.end - timedelta(microseconds=1), BERLIN) == period


def test_window_occurrences_agree_with_window_active_minute_by_minute() -> None:
    """The intervals the KPIs take out of availability are exactly the minutes a window is
    active, across the end of summer time, for daily, weekly, wrapping and one-off windows."""
    from postdeploy.domain.windows import merged, occurrences, window_active

    berlin = ZoneInfo("Europe/Berlin")
    since = datetime(2026, 10, 20, tzinfo=UTC)
    until = datetime(2026, 11, 3, tzinfo=UTC)
    windows = [("02:00", "03:00"), ("23:30", "00:30"), ("sun 23:00", "mon 01:00"),
               ("sat 10:00", "sat 09:00"), ("2026-10-25T01:00", "2026-10-25T04:00")]  # fmt: skip
    for start, end in windows:
        spans = merged(occurrences(start, end, since, until, berlin))
        t = since
        while t < until:
            inside = any(a <= t < b for a, b in spans)
            assert inside == window_active(start, end, t, berlin), (start, end, t)
            t += timedelta(minutes=10)
