"""SLA clocks, on a frozen `now`: targets per priority, pauses, business hours, thresholds and
the one-level escalation they cause; and how an export's event rows fold into one ticket."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from postdeploy.domain.sla import (
    DEFAULT_TARGETS,
    RESOLUTION_BREACHED,
    RESOLUTION_NEAR_BREACH,
    RESPONSE_BREACHED,
    RESPONSE_NEAR_BREACH,
    BusinessHours,
    Sla,
    describe,
    escalate,
    evaluate,
)
from postdeploy.domain.tickets import EventRow, StatusChange, Ticket, fold

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
H = timedelta(hours=1)


def sla(priority: str, *, age: timedelta, status: str = "new", **kwargs: object) -> Sla:
    return evaluate(
        created_at=MONDAY, status=status, target=DEFAULT_TARGETS[priority],  # type: ignore[index]
        now=MONDAY + age, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("priority", "response", "resolution"),
    [("critical", 1, 4), ("high", 4, 24), ("medium", 24, 72), ("low", 72, 168)],
)
def test_each_priority_has_the_support_guide_targets(
    priority: str, response: int, resolution: int
) -> None:
    target = DEFAULT_TARGETS[priority]  # type: ignore[index]
    assert (target.response, target.resolution) == (response * H, resolution * H)
    just_before = sla(priority, age=response * H * 0.74)
    assert just_before.response.state() == "ok"
    assert sla(priority, age=response * H * 0.75).response.state() == "near_breach"
    assert sla(priority, age=response * H + timedelta(seconds=1)).response.state() == "breached"
    assert sla(priority, age=resolution * H * 0.8).resolution.state() == "near_breach"


def test_a_critical_ticket_without_response_for_45_minutes_is_near_breach() -> None:
    clocks = sla("critical", age=45 * timedelta(minutes=1))
    assert clocks.response.elapsed == timedelta(minutes=45)
    assert clocks.response.remaining == timedelta(minutes=15)
    assert clocks.crossed() == RESPONSE_NEAR_BREACH
    assert describe(clocks.crossed()) == ["response near-breach"]


def test_a_response_stops_the_response_clock_but_not_the_resolution_clock() -> None:
    clocks = sla("critical", age=3 * H, first_response_at=MONDAY + timedelta(minutes=30))
    assert clocks.response.elapsed == timedelta(minutes=30)
    assert not clocks.response.running
    assert clocks.resolution.elapsed == 3 * H
    assert clocks.crossed() == RESOLUTION_NEAR_BREACH  # 3h of 4h; the response came in time


def test_the_first_change_of_status_counts_as_the_response() -> None:
    changes = [StatusChange(MONDAY + timedelta(minutes=20), "in_progress", "new")]
    clocks = sla("critical", age=2 * H, status="in_progress", changes=changes)
    assert clocks.response.elapsed == timedelta(minutes=20)
    assert clocks.response.state() == "ok"


def test_waiting_on_the_customer_pauses_the_clocks() -> None:
    changes = [
        StatusChange(MONDAY + timedelta(minutes=10), "in_progress", "new"),
        StatusChange(MONDAY + 1 * H, "waiting", "in_progress"),
        StatusChange(MONDAY + 5 * H, "in_progress", "waiting"),
    ]
    clocks = sla("critical", age=6 * H, status="in_progress", changes=changes)
    assert clocks.resolution.elapsed == 2 * H  # 0-1h and 5-6h; 4h waiting do not count
    assert clocks.resolution.state() == "ok"  # 6h of wall clock would breach the 4h target


def test_a_ticket_still_waiting_has_a_paused_clock_that_escalates_nothing() -> None:
    changes = [StatusChange(MONDAY + 3.5 * H, "waiting", "in_progress")]
    clocks = sla("critical", age=10 * H, status="waiting", changes=changes)
    assert clocks.resolution.elapsed == 3.5 * H
    assert not clocks.resolution.running
    assert clocks.crossed() == 0


def test_without_recorded_changes_a_waiting_ticket_paused_when_it_was_last_updated() -> None:
    clocks = sla("high", age=30 * H, status="waiting", updated_at=MONDAY + 2 * H)
    assert clocks.resolution.elapsed == 2 * H


def test_a_resolved_ticket_stops_its_clocks() -> None:
    changes = [StatusChange(MONDAY + 2 * H, "resolved", "new")]
    clocks = sla("critical", age=30 * H, status="resolved", changes=changes)
    assert clocks.resolution.elapsed == 2 * H
    assert not clocks.resolution.running and clocks.crossed() == 0


def test_breaching_both_targets_crosses_every_threshold() -> None:
    clocks = sla("critical", age=5 * H)
    assert clocks.crossed() == (
        RESPONSE_NEAR_BREACH | RESPONSE_BREACHED | RESOLUTION_NEAR_BREACH | RESOLUTION_BREACHED
    )
    assert clocks.response.remaining == -4 * H


def test_business_hours_count_only_working_time_over_a_weekend() -> None:
    calendar = BusinessHours()  # Monday-Friday 09:00-17:00 UTC
    friday_4pm = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    monday_10am = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    clocks = evaluate(
        created_at=friday_4pm, status="new", target=DEFAULT_TARGETS["high"], now=monday_10am,
        calendar=calendar,
    )  # fmt: skip
    assert clocks.response.elapsed == 2 * H  # Friday 16-17, Monday 9-10
    assert clocks.response.state() == "ok"
    wall_clock = evaluate(
        created_at=friday_4pm, status="new", target=DEFAULT_TARGETS["high"], now=monday_10am
    )
    assert wall_clock.response.state() == "breached"


def test_business_hours_skip_holidays_and_follow_the_time_zone() -> None:
    may_day = frozenset({date(2026, 5, 1)})
    paris = BusinessHours(
        tz=ZoneInfo("Europe/Paris"), start=time(9), end=time(18), holidays=may_day
    )
    thursday_5pm_paris = datetime(2026, 4, 30, 15, 0, tzinfo=UTC)  # 17:00 CEST
    monday_10am_paris = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # 10:00 CEST
    # Thursday 17-18, Friday 1 May is a holiday, Monday 9-10
    assert paris.seconds(thursday_5pm_paris, monday_10am_paris) == 2 * 3600
    assert paris.seconds(monday_10am_paris, thursday_5pm_paris) == 0


def test_business_hours_over_a_long_span_count_whole_weeks() -> None:
    calendar = BusinessHours()
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # Monday
    assert calendar.seconds(start, start + timedelta(weeks=52)) == 52 * 5 * 8 * 3600


def test_invalid_business_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="before end"):
        BusinessHours(start=time(18), end=time(9))


def test_a_threshold_crossed_escalates_one_level_and_only_once() -> None:
    near = sla("critical", age=50 * timedelta(minutes=1))
    first = escalate("L1", 0, near)
    assert first is not None
    assert (first.from_level, first.to_level) == ("L1", "L2")
    assert describe(first.new) == ["response near-breach"]
    assert escalate("L2", first.crossed, near) is None  # the same sweep again: nothing new
    breached = sla("critical", age=70 * timedelta(minutes=1))
    second = escalate("L2", first.crossed, breached)
    assert second is not None and (second.to_level, describe(second.new)) == (
        "L3",
        ["response breached"],
    )


def test_a_late_sweep_finding_several_thresholds_moves_one_level() -> None:
    decision = escalate("L1", 0, sla("critical", age=5 * H))
    assert decision is not None
    assert decision.to_level == "L2"
    assert len(describe(decision.new)) == 4


def test_at_the_top_level_a_new_threshold_is_recorded_without_a_level_to_raise() -> None:
    decision = escalate("L4", RESPONSE_NEAR_BREACH, sla("critical", age=2 * H))
    assert decision is not None
    assert (decision.from_level, decision.to_level) == ("L4", "L4")
    assert describe(decision.new) == ["response breached"]


def _row(status: str, at: timedelta, **fields: object) -> EventRow:
    base = {"created_at": MONDAY, "title": "VPN down"} | fields
    ticket = Ticket("sn", "INC1", "high", status, **base)  # type: ignore[arg-type]
    return EventRow(ticket, MONDAY + at, "agent")


def test_event_rows_fold_into_one_ticket_with_its_status_changes() -> None:
    rows = [
        _row("resolved", 5 * H, title="VPN down for everyone"),
        _row("new", 0 * H),
        _row("in_progress", 1 * H),
        _row("in_progress", 2 * H),  # a change of other fields: no status change
        _row("waiting", 3 * H),
    ]
    folded = fold(rows)
    assert folded.status == "resolved"
    assert folded.title == "VPN down for everyone"
    assert folded.resolved_at == MONDAY + 5 * H
    assert [(c.from_status, c.to_status, c.ts - MONDAY) for c in folded.changes] == [
        (None, "new", 0 * H),
        ("new", "in_progress", 1 * H),
        ("in_progress", "waiting", 3 * H),
        ("waiting", "resolved", 5 * H),
    ]


def test_two_changes_in_the_same_instant_fold_into_one() -> None:
    folded = fold([_row("new", 0 * H), _row("in_progress", 1 * H), _row("waiting", 1 * H)])
    assert [(c.from_status, c.to_status) for c in folded.changes] == [
        (None, "new"),
        ("new", "waiting"),
    ]
