"""The knowledge base's grouping: category and title signature, ranking, resolutions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from postdeploy.domain.kb import ResolvedTicket, build, demo_resolved_tickets, format_hours

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def resolved(
    title: str,
    category: str | None = "Network",
    resolution: str | None = None,
    *,
    day: int = 0,
    hours: float = 2.0,
    service: str | None = "vpn",
) -> ResolvedTicket:
    created = T0 + timedelta(days=day)
    return ResolvedTicket(title, category, service, resolution, created,
                          created + timedelta(hours=hours))  # fmt: skip


def test_tickets_whose_titles_differ_only_in_variable_parts_make_one_entry() -> None:
    tickets = [
        resolved(f"VPN down for user {n}", resolution=f"Restarted vpn gateway gw-{n}", day=n)
        for n in range(1, 6)
    ]
    (entry,) = build(tickets)
    assert entry.signature == "VPN down for user <*>"
    assert entry.count == 5 and entry.category == "Network"
    assert entry.examples == ("VPN down for user 5", "VPN down for user 4", "VPN down for user 3")
    assert entry.last_seen == T0 + timedelta(days=5)
    (how,) = entry.resolutions
    assert (how.signature, how.count, how.example) == (
        "Restarted vpn gateway gw-<*>",
        5,
        "Restarted vpn gateway gw-5",
    )


def test_the_same_title_in_two_categories_makes_two_entries() -> None:
    tickets = [resolved("Email bounces", "Mail"), resolved("Email bounces", "Mail")]
    tickets += [resolved("Email bounces", "Spam"), resolved("Email bounces", "Spam")]
    assert sorted(e.category for e in build(tickets)) == ["Mail", "Spam"]


def test_issues_seen_once_are_left_out_and_the_most_frequent_comes_first() -> None:
    tickets = [resolved("Disk full on db-1", "Storage")]
    tickets += [resolved("Checkout fails", "Shop", day=d) for d in range(2)]
    tickets += [resolved("Login slow", "Auth", day=d) for d in range(3)]
    assert [e.signature for e in build(tickets)] == ["Login slow", "Checkout fails"]
    assert [e.count for e in build(tickets, min_size=1)] == [3, 2, 1]


def test_an_entry_has_the_median_time_to_resolve_and_counts_undocumented_tickets() -> None:
    tickets = [
        resolved("Printer jam", "Office", "Cleared the tray", hours=1),
        resolved("Printer jam", "Office", "Cleared the tray", hours=3),
        resolved("Printer jam", "Office", None, hours=30),
    ]
    (entry,) = build(tickets)
    assert entry.median_hours == 3.0
    assert entry.undocumented == 1
    assert [(r.signature, r.count) for r in entry.resolutions] == [("Cleared the tray", 2)]


def test_the_most_common_resolutions_come_first_and_only_the_top_ones_are_kept() -> None:
    notes = ["Restarted the pod"] * 3 + ["Rolled back the release"] * 2 + ["Scaled up", "Other"]
    tickets = [resolved("API 500s", "Backend", note, day=i) for i, note in enumerate(notes)]
    (entry,) = build(tickets, top_resolutions=2)
    assert [(r.signature, r.count) for r in entry.resolutions] == [
        ("Restarted the pod", 3),
        ("Rolled back the release", 2),
    ]


def test_tickets_without_a_category_or_title_are_grouped_not_dropped() -> None:
    (entry,) = build([resolved("", None, service=None), resolved("  ", None, service=None)])
    assert (entry.category, entry.signature, entry.services) == ("uncategorised", "(no title)", ())


def test_anchors_are_stable_and_distinct() -> None:
    tickets = [resolved("Login slow", "Auth"), resolved("Login slow", "Auth")]
    tickets += [resolved("Login slow", "Auth & SSO"), resolved("Login slow", "Auth & SSO")]
    first, again = build(tickets), build(list(reversed(tickets)))
    assert {e.anchor for e in first} == {e.anchor for e in again}
    assert len({e.anchor for e in first}) == 2
    assert all(a.startswith(("auth-", "auth-sso-")) for a in (e.anchor for e in first))


def test_no_tickets_make_no_entries() -> None:
    assert build([]) == []


def test_durations_read_in_minutes_hours_or_days() -> None:
    assert [format_hours(h) for h in (0.25, 3.5, 50)] == ["15 min", "3.5 h", "2.1 d"]


def test_the_demo_tickets_make_a_knowledge_base_of_recurring_issues() -> None:
    tickets = demo_resolved_tickets(T0, count=50)
    assert len(tickets) == 50 and tickets == demo_resolved_tickets(T0, count=50)
    entries = build(
        ResolvedTicket(t.title, t.category, t.service, t.resolution, t.created_at, t.resolved_at)
        for t in tickets
        if t.resolved_at
    )
    assert 4 <= len(entries) <= 7 and sum(e.count for e in entries) >= 45
    assert "Checkout fails with HTTP <*> for order <*>" in [e.signature for e in entries]
    assert all(e.resolutions for e in entries)
