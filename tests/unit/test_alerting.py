"""Alerting rules and Alertmanager semantics on a frozen clock: `now` is always passed in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from postdeploy.catalog import Catalog, CatalogError, load_catalog
from postdeploy.domain.alerting import (
    INCIDENT,
    Alert,
    GroupState,
    Inhibition,
    RouteNode,
    Rule,
    RuleData,
    Silence,
    Timing,
    Window,
    fingerprint,
    parse_matchers,
    plan,
    routes_for,
    suppressed,
)  # fmt: skip
from postdeploy.domain.alerting.dispatch import Plan
from postdeploy.domain.alerting.rules import BurnFact, CheckFacts, advance, evaluate

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
TREE = RouteNode(receivers=("ops",), timing=Timing(timedelta(seconds=30), timedelta(minutes=5),
                                                   timedelta(hours=4)))  # fmt: skip


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def alert(name: str, service: str = "api", start: float = 0, **labels: str) -> Alert:
    full = {"alertname": name, "service": service, "severity": "high", **labels}
    return Alert(fingerprint(name, full), full, at(start))


def resolved(a: Alert, end: float) -> Alert:
    return Alert(a.fingerprint, a.labels, a.starts_at, "resolved", at(end))


class Dispatcher:
    """Runs plan() like the flow does: keeps group states between runs, as if all delivered."""

    def __init__(self, tree: RouteNode = TREE) -> None:
        self.tree = tree
        self.states: dict[tuple[str, str], GroupState] = {}
        self.sent: list[tuple[float, str, list[str], list[str]]] = []

    def run(self, seconds: float, alerts: list[Alert], muted: set[str] | None = None) -> Plan:
        result = plan(alerts, self.tree, states=self.states, muted=muted or set(), now=at(seconds))
        for d in result.decisions:
            self.states[d.group] = d.state
            if n := d.notification:
                names = [a.labels["alertname"] for a in n.firing]
                self.sent.append(
                    (seconds, n.receiver, names, [a.labels["alertname"] for a in n.resolved])
                )
        for gone in result.forget:
            del self.states[gone]
        return result


def test_a_new_group_waits_group_wait_then_notifies_once() -> None:
    d, a = Dispatcher(), alert("HighLatency")
    d.run(0, [a])
    d.run(29, [a])
    assert d.sent == []
    d.run(30, [a])
    d.run(60, [a])
    assert d.sent == [(30, "ops", ["HighLatency"], [])]


def test_an_alert_already_older_than_group_wait_is_notified_at_once() -> None:
    d = Dispatcher()
    d.run(100, [alert("CheckDown", start=40)])
    assert d.sent == [(100, "ops", ["CheckDown"], [])]


def test_an_alert_joining_a_notified_group_waits_for_group_interval() -> None:
    d = Dispatcher(replace_group_by(("service",)))
    a, b = alert("HighLatency"), alert("HighErrors", start=60)
    d.run(0, [a])
    d.run(30, [a])
    for t in (60, 120, 329):
        d.run(t, [a, b])
    assert len(d.sent) == 1
    d.run(330, [a, b])
    assert d.sent[-1] == (330, "ops", ["HighLatency", "HighErrors"], [])


def replace_group_by(group_by: tuple[str, ...]) -> RouteNode:
    return RouteNode(receivers=("ops",), group_by=group_by, timing=TREE.timing)


def test_unchanged_news_is_repeated_after_repeat_interval_at_a_group_interval_flush() -> None:
    d, a = Dispatcher(), alert("HighLatency")
    for t in range(0, 4 * 3600 + 400, 60):  # a run every minute for over four hours
        d.run(t, [a])
    # group_wait ends at 30 s, seen at the 60 s run; then a flush every group_interval (5 min)
    # finds nothing new until four hours after that notification
    assert [t for t, *_ in d.sent] == [60, 60 + 4 * 3600]


def test_a_resolution_is_sent_once_at_the_next_flush_then_the_group_is_forgotten() -> None:
    d, a = Dispatcher(), alert("HighLatency")
    d.run(0, [a])
    d.run(30, [a])
    d.run(100, [resolved(a, 90)])
    assert len(d.sent) == 1  # not before group_interval since the last flush
    d.run(330, [resolved(a, 90)])
    assert d.sent[-1] == (330, "ops", [], ["HighLatency"])
    forgotten = d.run(390, [resolved(a, 90)])
    assert forgotten.decisions == () and d.states == {}
    d.run(400, [alert("HighLatency", start=400)])  # back: a new group that waits again
    assert len(d.sent) == 2


def test_an_alert_that_fired_and_resolved_between_notifications_is_never_announced() -> None:
    d, a, b = Dispatcher(replace_group_by(("service",))), alert("A"), alert("B", start=60)
    d.run(0, [a])
    d.run(30, [a])
    d.run(60, [a, b])
    d.run(120, [a, resolved(b, 110)])
    d.run(330, [a, resolved(b, 110)])
    assert [names for _, _, names, _ in d.sent] == [["A"]]


def test_a_failed_delivery_keeps_the_group_due_for_the_next_run() -> None:
    a = alert("HighLatency")
    first = plan([a], TREE, states={}, muted=set(), now=at(0))
    due = plan([a], TREE, states={first.decisions[0].group: first.decisions[0].state},
               muted=set(), now=at(30)).decisions[0]  # fmt: skip
    assert due.notification is not None
    again = plan([a], TREE, states={due.group: due.previous}, muted=set(), now=at(90))
    assert again.decisions[0].notification is not None


def test_the_fingerprint_is_stable_and_any_label_changes_it() -> None:
    assert fingerprint("X", {"b": "2", "a": "1"}) == fingerprint("X", {"a": "1", "b": "2"})
    assert fingerprint("X", {"a": "1"}) != fingerprint("X", {"a": "2"})
    assert fingerprint("X", {"a": "1"}) != fingerprint("Y", {"a": "1"})


LATENCY = Rule("HighLatency", "threshold", ("api",), severity="high", for_s=300,
               series="latency_p95_ms", op=">", value=500)  # fmt: skip


def series(*values: float, start: float = 0, step: float = 60) -> RuleData:
    points = [(T0.timestamp() + start + i * step, v) for i, v in enumerate(values)]
    return RuleData(series={("latency_p95_ms", "api"): points})


def test_a_threshold_rule_is_pending_until_its_for_then_fires_once_then_resolves() -> None:
    now = T0.timestamp()
    signals = evaluate([LATENCY], series(100, 900, 900, 900, 900), now + 240)
    step = advance(signals, pending={}, firing=set(), now=now + 240)
    assert step.firing == () and len(step.pending) == 1  # held 3 minutes of 5
    signals = evaluate([LATENCY], series(100, 900, 900, 900, 900, 900, 900), now + 360)
    step = advance(signals, pending={}, firing=set(), now=now + 360)
    assert [s.labels["alertname"] for s in step.firing] == ["HighLatency"] and step.fired
    again = advance(signals, pending={}, firing={step.fired[0]}, now=now + 360)
    assert again.fired == () and len(again.firing) == 1  # deduplicated by fingerprint
    cleared = evaluate([LATENCY], series(900, 900, 900, 900, 900, 900, 200), now + 360)
    assert advance(cleared, pending={}, firing={step.fired[0]}, now=now + 360).resolved


def test_stale_data_is_no_data_and_resolves_the_alert() -> None:
    now = T0.timestamp() + 3600
    assert evaluate([LATENCY], series(900, 900, 900, 900, 900, 900), now) == []


def test_an_anomaly_rule_fires_on_what_the_detector_flags_and_skips_without_one() -> None:
    rule = Rule("LatencyAnomaly", "anomaly", ("api",), series="latency_p95_ms", lookback_s=3600)

    def spikes(values: Sequence[float]) -> list[int]:  # stands in for the streaming detector
        return [int(v > 3 * min(values)) for v in values]

    data = series(100, 110, 95, 105, 700, 720)
    now = T0.timestamp() + 300
    (signal,) = evaluate([rule], data, now, spikes)
    assert signal.since == T0.timestamp() + 240 and signal.value == 720
    assert evaluate([rule], data, now, None) == []


def test_an_anomaly_flagged_once_keeps_firing_for_its_hold_then_resolves() -> None:
    rule = Rule("LatencyAnomaly", "anomaly", ("api",), series="latency_p95_ms", hold_s=600)

    def onset(values: Sequence[float]) -> list[int]:  # like the detector: one flag per event
        return [int(v > 300 and (i == 0 or values[i - 1] <= 300)) for i, v in enumerate(values)]

    data = series(100, 110, 95, 105, 700, *[720] * 12)
    start = T0.timestamp()
    (signal,) = evaluate([rule], data, start + 540, onset)
    assert signal.since == start + 240
    assert evaluate([rule], data, start + 840, onset) == []


def test_slo_burn_facts_become_alerts_with_the_mapped_severity() -> None:
    rule = Rule("ErrorBudgetBurn", "slo_burn", ("api", "web"),
                severities=(("page", "critical"), ("ticket", "medium")))  # fmt: skip
    burns = [BurnFact("api", "page", True), BurnFact("web", "ticket", False)]
    (signal,) = evaluate([rule], RuleData(burns=burns), T0.timestamp())
    assert signal.labels == {
        "alertname": "ErrorBudgetBurn", "severity": "critical", "service": "api", "burn": "page"
    }  # fmt: skip


def test_a_fact_without_history_waits_its_for_across_evaluations() -> None:
    rule = Rule("ErrorBudgetBurn", "slo_burn", ("api",), for_s=120)
    data = RuleData(burns=[BurnFact("api", "page", True)])
    now = T0.timestamp()
    first = advance(evaluate([rule], data, now), pending={}, firing=set(), now=now)
    ((fp, (_, since)),) = first.pending.items()
    later = advance(evaluate([rule], data, now + 120), pending={fp: since}, firing=set(),
                    now=now + 120)  # fmt: skip
    assert later.fired == (fp,)


def test_check_rules_count_failures_in_a_row_and_days_to_certificate_expiry() -> None:
    now = T0.timestamp()
    checks = {
        ("api", "health"): CheckFacts(3, "HTTP 503", cert_expires_at=now + 5 * 86400),
        ("api", "deep"): CheckFacts(2, "HTTP 500", cert_expires_at=now + 40 * 86400),
    }
    failing = Rule("CheckFailing", "check_failing", ("api",), times=3)
    expiring = Rule("CertExpiring", "cert_expiring", ("api",), within_s=14 * 86400)
    found = evaluate([failing, expiring], RuleData(checks=checks), now)
    assert [(s.labels["alertname"], s.labels["check"], s.value) for s in found] == [
        ("CheckFailing", "health", 3), ("CertExpiring", "health", 5.0),
    ]  # fmt: skip


def test_a_silence_mutes_matching_alerts_only_while_it_is_active() -> None:
    a, b = alert("HighLatency"), alert("HighLatency", service="web")
    silence = Silence(1, parse_matchers(["service=api"]), at(0), at(3600))
    muted = suppressed([(x.fingerprint, x.labels, True) for x in (a, b)], now=at(10),
                       silences=[silence])  # fmt: skip
    assert muted == {a.fingerprint: "silenced by 1"}
    assert suppressed([(a.fingerprint, a.labels, True)], now=at(3600), silences=[silence]) == {}


def test_a_muted_group_sends_nothing_and_is_told_once_the_silence_ends() -> None:
    d, a = Dispatcher(), alert("HighLatency")
    d.run(0, [a], muted={a.fingerprint})
    d.run(30, [a], muted={a.fingerprint})
    d.run(330, [a], muted={a.fingerprint})
    assert d.sent == []
    d.run(630, [a])
    assert d.sent == [(630, "ops", ["HighLatency"], [])]


@pytest.mark.parametrize(
    ("start", "end", "local_time", "inside"),
    [
        ("22:00", "02:00", "2026-03-02T23:30", True),  # daily, across midnight
        ("22:00", "02:00", "2026-03-02T02:00", False),
        ("sun 02:00", "sun 04:00", "2026-03-08T03:00", True),  # a Sunday
        ("sun 02:00", "sun 04:00", "2026-03-09T03:00", False),
        ("2026-03-02T10:00", "2026-03-02T11:00", "2026-03-02T10:30", True),
        ("2026-03-02T10:00+00:00", "2026-03-02T11:00+00:00", "2026-03-02T10:30", False),
    ],
)
def test_maintenance_windows_are_read_in_the_catalog_time_zone(
    start: str, end: str, local_time: str, inside: bool
) -> None:
    zone = ZoneInfo("Europe/Berlin")
    now = datetime.fromisoformat(local_time).replace(tzinfo=zone)
    window = Window("nightly", ("api",), start, end)
    a = alert("HighLatency")
    muted = suppressed([(a.fingerprint, a.labels, True)], now=now, windows=[window], tz=zone)
    assert bool(muted) is inside
    other = alert("HighLatency", service="web")
    assert not suppressed([(other.fingerprint, other.labels, True)], now=now, windows=[window],
                          tz=zone)  # fmt: skip


def test_a_service_down_alert_inhibits_that_services_latency_alerts_by_default() -> None:
    catalog = Catalog.model_validate({"services": [{"name": "api"}, {"name": "web"}]})
    rules = [r.spec() for r in catalog.inhibit_rules]
    down = alert("CheckDown", check="health")
    slow = alert("HighLatency", series="latency_p95_ms")
    slow_web = alert("HighLatency", service="web", series="latency_p95_ms")
    errors = alert("HighErrorRate", series="error_rate")
    given = [(x.fingerprint, x.labels, True) for x in (down, slow, slow_web, errors)]
    assert suppressed(given, now=T0, inhibitions=rules) == {
        slow.fingerprint: "inhibited by CheckDown"
    }
    resolved_down = [(down.fingerprint, down.labels, False), given[1]]
    assert suppressed(resolved_down, now=T0, inhibitions=rules) == {}


def test_an_alert_matching_source_and_target_does_not_inhibit_itself() -> None:
    rule = Inhibition(parse_matchers(["severity=critical"]), parse_matchers(["severity=~.+"]))
    a = alert("Down", severity="critical")
    assert suppressed([(a.fingerprint, a.labels, True)], now=T0, inhibitions=[rule]) == {}


ROUTING = Catalog.model_validate(
    {
        "services": [{"name": "api"}, {"name": "billing"}],
        "routes": [{"name": n, "kind": "log"} for n in ("ops", "pager", "billing-chat", "audit")],
        "alert_routing": {
            "receivers": ["ops"],
            "routes": [
                {"name": "audit", "matchers": ["severity=~.+"], "receivers": ["audit"],
                 "continue": True},
                {"name": "critical", "matchers": ["severity=critical"], "receivers": ["pager"],
                 "incident": {}, "group_wait": "0s"},
                {"name": "billing", "matchers": ['service=~"billing|payments"'],
                 "receivers": ["billing-chat"]},
            ],
        },
    }
)  # fmt: skip


@pytest.mark.parametrize(
    ("labels", "paths"),
    [
        ({"severity": "critical", "service": "billing"}, ["root/audit", "root/critical"]),
        ({"severity": "high", "service": "billing"}, ["root/audit", "root/billing"]),
        ({"severity": "high", "service": "api"}, ["root/audit"]),
        ({"service": "api"}, ["root"]),
    ],
)
def test_routing_takes_the_first_matching_route_unless_it_continues(
    labels: dict[str, str], paths: list[str]
) -> None:
    assert ROUTING.alert_routing is not None
    found = routes_for(ROUTING.alert_routing.tree(), {"alertname": "X", **labels})
    assert [n.path for n in found] == paths


def test_an_incident_route_gets_its_own_group_with_inherited_timing() -> None:
    assert ROUTING.alert_routing is not None
    tree = ROUTING.alert_routing.tree()
    a = alert("CheckDown", service="billing", severity="critical")
    result = plan([a], tree, states={}, muted=set(), now=T0)
    notified = sorted(d.group[1] for d in result.decisions if d.notification)
    assert notified == [INCIDENT, "pager"]  # group_wait 0s; audit waits its inherited 30s
    assert tree.routes[1].timing.group_interval == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"alert_routing": {"receivers": ["nope"]}}, "unknown receivers ['nope']"),
        ({"alert_rules": [{"name": "X", "kind": "threshold", "series": "latency_p95_ms",
                           "value": 1, "severity": "urgent"}]}, "unknown severities ['urgent']"),
        ({"alert_rules": [{"name": "X", "kind": "threshold", "series": "latency", "value": 1}]},
         "unknown series 'latency'"),
        ({"alert_routing": {"routes": [{"matchers": ["service=~(("]}]}}, "bad regular expression"),
        ({"alert_rules": [{"name": "X", "kind": "check_failing", "summary": "{{ oops"}]},
         "bad template"),
        ({"maintenance_windows": [{"name": "m", "start": "sun 02:00", "end": "03:00"}]},
         "same kind"),
    ],
)  # fmt: skip
def test_alerting_mistakes_in_the_catalog_are_named(
    tmp_path: object, extra: dict[str, object], message: str
) -> None:
    from pathlib import Path

    import yaml

    path = Path(str(tmp_path)) / "postdeploy.yaml"
    path.write_text(yaml.safe_dump({"services": [{"name": "api"}], **extra}))
    with pytest.raises(CatalogError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_catalog(path)


def test_a_broken_message_template_falls_back_to_the_default_one() -> None:
    from postdeploy.adapters.notify import alert_event

    a = alert("HighLatency")
    note = plan([a], TREE, states={}, muted=set(), now=at(60)).decisions[0].notification
    assert note is not None
    event = alert_event(note.context(), title="{{ 1 / 0 }}", text="{{ labels.nope.deeper }}!")
    assert event["title"] == "[FIRING:1] HighLatency api"
    assert event["text"] == "!"  # a missing label renders empty
    assert event["alerts"][0]["labels"]["alertname"] == "HighLatency"
