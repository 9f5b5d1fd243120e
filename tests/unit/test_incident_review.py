"""The post-incident review: response times, SLA verdicts, action items, due dates, report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from postdeploy.domain.incident_review import (
    Event,
    IncidentFacts,
    add_business_days,
    build_review,
    review_due,
    user_message,
)
from postdeploy.reporting.incident_review import write_incident_review

T0 = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)  # a Friday
H = timedelta(hours=1)


def facts(**changes: Any) -> IncidentFacts:
    base = IncidentFacts(
        7, "k", "api", "critical", "L4", "resolved", "orders fail", "ana", T0,
        T0 + 0.25 * H, T0 + 2 * H, T0 + 3 * H,
    )  # fmt: skip
    return replace(base, **changes)


def events() -> list[Event]:
    return [
        Event(T0 + 2 * H, "fix_applied", "incident-response", "restart: HTTP 200"),
        Event(T0, "opened", "incident-response", "orders fail"),
        Event(T0, "alerts", "postdeploy-alerting", "HighErrorRate on api"),
        Event(T0 + H, "fix_approved", "ana", "ana approved the emergency fix: safe"),
    ]


def test_a_critical_incident_resolved_in_three_hours_meets_its_one_and_four_hour_sla() -> None:
    review = build_review(facts(), events(), response=H, resolution=4 * H, now=T0 + 5 * H)
    assert review.time_to_acknowledge == timedelta(minutes=15)
    assert review.time_to_mitigate == 2 * H
    assert review.time_to_resolve == 3 * H
    assert [c.met for c in review.sla] == [True, True] and review.sla_met is True
    assert [e.kind for e in review.timeline][-1] == "fix_applied"  # in time order
    assert [a.message for a in review.alerts] == ["HighErrorRate on api"]


def test_a_late_acknowledgement_breaches_the_response_sla_and_asks_why() -> None:
    review = build_review(
        facts(acknowledged_at=T0 + 2 * H), events(), response=H, resolution=4 * H, now=T0
    )
    assert review.sla[0].met is False and review.sla_met is False
    assert any("response SLA" in item for item in review.action_items)


def test_an_open_incident_past_its_resolution_target_is_breached_before_it_resolves() -> None:
    open_one = facts(status="monitoring", resolved_at=None, mitigated_at=None)
    within = build_review(open_one, [], response=H, resolution=4 * H, now=T0 + 3 * H)
    past = build_review(open_one, [], response=H, resolution=4 * H, now=T0 + 5 * H)
    assert within.sla[1].met is None and within.sla_met is None
    assert past.sla[1].met is False


def test_the_review_is_due_in_business_days_by_severity_skipping_the_weekend() -> None:
    assert add_business_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Friday -> Monday
    assert review_due("critical", date(2026, 3, 6)) == date(2026, 3, 11)
    assert review_due("low", date(2026, 3, 6)) == date(2026, 3, 27)
    review = build_review(facts(), events(), response=H, resolution=4 * H, now=T0)
    assert review.due == date(2026, 3, 11)


def test_a_failed_fix_becomes_an_action_item() -> None:
    failed = [Event(T0 + H, "fix_failed", "incident-response", "restart failed after 3")]
    review = build_review(facts(), failed, response=H, resolution=4 * H, now=T0)
    assert any("emergency fix of api reliable" in item for item in review.action_items)


def test_users_read_a_message_per_state() -> None:
    text = user_message("investigating", service="api", summary="orders fail.")
    assert text.startswith("We are investigating a problem with api: orders fail.")
    assert "resolved" in user_message("resolved", service="api", summary="x")


def test_the_report_has_the_timeline_with_timestamps_and_the_sla_verdict(tmp_path: Path) -> None:
    review = build_review(facts(), events(), response=H, resolution=4 * H, now=T0 + 5 * H)
    files = write_incident_review(review, out_dir=tmp_path)
    assert files.markdown == tmp_path / "7" / "review.md"
    text = files.markdown.read_text()
    assert "| 2026-03-06 11:00:00 UTC | fix_approved | ana |" in text
    assert "SLA overall: **met**" in text and "Review due by **2026-03-11**" in text
    html = files.html.read_text()
    assert "Time to acknowledge" in html and "15 min" in html and "ana approved" in html
