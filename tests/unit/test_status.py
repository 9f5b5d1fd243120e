"""Status page rules (component states, the worst state, maintenance windows) and its facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from postdeploy.domain.status import (
    FLAP_FLIPS,
    CheckNow,
    Component,
    IncidentNotice,
    Maintenance,
    StatusPage,
    Update,
    component_state,
    maintenance_at,
    worst,
)
from postdeploy.domain.windows import window_active
from postdeploy.reporting.status import render_status, status_facts

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)


def checks(*statuses: str, flips: int = 0) -> list[CheckNow]:
    return [CheckNow(f"c{i}", s, 0.0, flips=flips) for i, s in enumerate(statuses)]


@pytest.mark.parametrize(
    ("statuses", "state"),
    [
        (("up", "up"), "operational"),
        (("up", "down"), "partial_outage"),
        (("down", "down"), "major_outage"),
        (("down",), "major_outage"),
        (("down", "unknown"), "major_outage"),  # a check never run yet counts neither way
        (("unknown",), "operational"),
        ((), "operational"),
    ],
)
def test_a_component_state_follows_how_many_of_its_checks_are_down(
    statuses: tuple[str, ...], state: str
) -> None:
    assert component_state(checks(*statuses)).state == state


def test_a_flapping_check_degrades_its_component_and_says_which() -> None:
    verdict = component_state(checks("up", "up", flips=FLAP_FLIPS))
    assert verdict.state == "degraded"
    assert verdict.reasons == ("c0 flapping", "c1 flapping")
    assert component_state(checks("up", flips=FLAP_FLIPS - 1)).state == "operational"


def test_an_slo_burning_at_paging_speed_or_an_open_incident_degrades_a_component() -> None:
    burning = component_state(checks("up"), slo_burning=["latency"])
    assert (burning.state, burning.reasons) == (
        "degraded",
        ("latency SLO burning its error budget",),
    )
    incident = component_state(checks("up"), open_incidents=2)
    assert (incident.state, incident.reasons) == ("degraded", ("2 open incidents",))


def test_an_outage_outranks_degradation() -> None:
    verdict = component_state(checks("up", "down", flips=9), slo_burning=["availability"])
    assert verdict.state == "partial_outage"


def test_maintenance_wins_because_failures_during_it_are_expected() -> None:
    assert component_state(checks("down", "down"), in_maintenance=True).state == "maintenance"


def test_the_page_shows_its_worst_component_and_maintenance_is_better_than_trouble() -> None:
    assert worst(["operational", "maintenance"]) == "maintenance"
    assert worst(["maintenance", "degraded"]) == "degraded"
    assert worst(["degraded", "major_outage", "partial_outage"]) == "major_outage"
    assert worst([]) == "operational"


def test_a_maintenance_window_is_active_from_its_start_until_just_before_its_end() -> None:
    window = Maintenance("db", ("billing",), NOW, NOW + timedelta(hours=1))
    assert window.upcoming(NOW - timedelta(seconds=1))
    assert window.active(NOW) and not window.upcoming(NOW)
    assert not window.active(NOW + timedelta(hours=1))
    assert window.covers("billing") and not window.covers("api")
    assert Maintenance("all", (), NOW, NOW).covers("api")


def test_maintenance_instants_without_an_offset_are_in_the_catalog_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    window = maintenance_at(
        "db", ["billing"], "2026-03-16T02:00", "2026-03-16T04:00Z", now=NOW, tz=berlin
    )
    assert (window.start, window.end) == (at(1), at(4))
    assert window.services == ("billing",) and window.recurs == ""


def at(hour: int, day: int = 16, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_a_daily_window_shows_the_occurrence_in_progress_or_the_next_one() -> None:
    def nightly(now: datetime) -> tuple[datetime, datetime]:
        window = maintenance_at("backup", [], "23:30", "00:15", now=now, tz=UTC)
        assert window.recurs == "daily"
        return window.start, window.end

    assert nightly(at(12)) == (at(23, minute=30), at(0, day=17, minute=15))
    assert nightly(at(0, day=17, minute=5)) == (at(23, minute=30), at(0, day=17, minute=15))
    assert nightly(at(0, day=17, minute=15)) == (at(23, day=17, minute=30), at(0, 18, 15))


def test_a_weekly_window_follows_its_weekday_in_the_catalog_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in March before the switch on the 29th
    window = maintenance_at("patch", [], "sun 02:00", "sunday 04:00", now=NOW, tz=berlin)
    assert (window.start, window.end, window.recurs) == (at(1, 22), at(3, 22), "weekly")
    assert not window.active(NOW) and window.upcoming(NOW)


def test_maintenance_occurrences_agree_with_alert_muting() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    windows = [("22:00", "01:30"), ("02:00", "04:00"), ("sat 23:00", "mon 06:00"),
               ("2026-03-17T08:00", "2026-03-17T09:45+00:00")]  # fmt: skip
    for minutes in range(0, 16 * 1440, 7):  # across the switch to summer time on the 29th
        now = NOW + timedelta(minutes=minutes)
        for start, end in windows:
            ours = maintenance_at("w", [], start, end, now=now, tz=berlin).active(now)
            assert ours == window_active(start, end, now, berlin), (start, end, now)


def test_a_bad_maintenance_window_names_itself_and_the_problem() -> None:
    with pytest.raises(ValueError, match="'db': 'tonight' is not a time such as"):
        maintenance_at("db", [], "tonight", "2026-03-16T04:00Z", now=NOW, tz=UTC)
    with pytest.raises(ValueError, match="'db': end .* is not after start"):
        maintenance_at("db", [], "2026-03-16T04:00Z", "2026-03-16T03:00Z", now=NOW, tz=UTC)
    with pytest.raises(ValueError, match="'db': .* must be of the same kind"):
        maintenance_at("db", [], "02:00", "sun 04:00", now=NOW, tz=UTC)
    with pytest.raises(ValueError, match="'25:00' is not a time"):
        maintenance_at("db", [], "25:00", "02:00", now=NOW, tz=UTC)


def page(*components: Component, incidents: tuple[IncidentNotice, ...] = ()) -> StatusPage:
    day = int(NOW.timestamp() // 86400)
    return StatusPage(NOW, components, incidents, (), day - 89, day)


def test_a_component_never_measured_says_so_instead_of_operational() -> None:
    fresh = Component("new", "", component_state([]), measured=False, days=())
    facts = status_facts(page(fresh))
    [component] = facts["components"]
    assert (component["state"], component["label"]) == ("operational", "No data yet")
    assert component["uptime"] is None and len(component["days"]) == 90
    assert {d["level"] for d in component["days"]} == {"nodata"}
    assert "No data yet" in render_status(facts)


def test_incident_text_is_escaped_on_the_page() -> None:
    notice = IncidentNotice(
        "INC-1", "<script>alert(1)</script>", "api", "high", "investigating", NOW, None,
        (Update(NOW, "investigating", "<img src=x onerror=alert(1)>"),),
    )  # fmt: skip
    api = Component("api", "", component_state(checks("up"), open_incidents=1), True, ())
    html = render_status(status_facts(page(api, incidents=(notice,))))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Degraded performance" in html


def test_the_page_carries_its_own_styles_in_the_head() -> None:
    html = render_status(status_facts(page()))
    head = html[: html.index("</head>")]
    assert "svg.days" in head and ".banner" in head  # base.html's `head` block is in place
