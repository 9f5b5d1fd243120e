"""The alerting store on SQLite and PostgreSQL: rule alerts, silences, groups, incidents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from postdeploy.catalog import Catalog
from postdeploy.commands.silences import app as silence_app
from postdeploy.domain.alerting import GroupState, Rule
from postdeploy.domain.alerting.dispatch import Notification
from postdeploy.domain.alerting.routing import RouteNode
from postdeploy.domain.alerting.rules import CheckFacts, advance, evaluate
from postdeploy.domain.checks import CheckOutcome
from postdeploy.store import alerts
from postdeploy.store.checks import record_sweep
from postdeploy.store.incidents import note_alerts_resolved, open_or_update_incident
from postdeploy.store.metrics import record_samples
from postdeploy.store.schema import alert, alert_notification, incident, incident_event
from postdeploy.store.services import sync_services
from postdeploy.store.session import store_transaction

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
RULE = Rule(
    "HighLatency",
    "threshold",
    ("api",),
    severity="high",
    for_s=120,
    series="latency_p95_ms",
    value=500,
)


def count(url: str, table: object) -> int:
    with store_transaction(url) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def evaluate_at(url: str, seconds: float) -> tuple[int, int, int]:
    """One rule evaluation as the flow runs it; returns (firing, pending, resolved)."""
    now = T0 + timedelta(seconds=seconds)
    with store_transaction(url) as conn:
        data = alerts.rule_data(conn, rules=[RULE], now=now.timestamp())
        pending, firing = alerts.rule_state(conn)
        step = advance(
            evaluate([RULE], data, now.timestamp()),
            pending=pending,
            firing=firing,
            now=now.timestamp(),
        )
        texts = {
            s.fingerprint: (f"p95 {s.value}", {"summary": f"p95 {s.value}"}) for s in step.firing
        }
        alerts.save_rule_step(conn, step=step, texts=texts, now=now)
    return len(step.firing), len(step.pending), len(step.resolved)


def latency(url: str, *points: tuple[float, float]) -> None:
    with store_transaction(url) as conn:
        record_samples(
            conn,
            samples=[
                ("latency_p95_ms", {"service": "api"}, T0.timestamp() + t, v) for t, v in points
            ],
        )


def test_a_rule_alert_waits_out_its_for_fires_once_is_refreshed_and_resolves(
    store_url: str,
) -> None:
    latency(store_url, (0, 900), (60, 900))
    assert evaluate_at(store_url, 60) == (0, 1, 0)
    latency(store_url, (120, 950))
    assert evaluate_at(store_url, 120) == (1, 0, 0)
    assert evaluate_at(store_url, 120) == (1, 0, 0)  # a rerun: still one alert
    latency(store_url, (180, 990))
    evaluate_at(store_url, 180)
    with store_transaction(store_url) as conn:
        (row,) = conn.execute(select(alert)).all()
    assert (row.status, row.name, row.severity, row.source) == (
        "firing",
        "HighLatency",
        "high",
        "rules",
    )
    assert row.labels == {"service": "api", "series": "latency_p95_ms"}
    assert row.summary == "p95 990.0" and row.starts_at == T0 + timedelta(seconds=120)
    latency(store_url, (240, 100))
    assert evaluate_at(store_url, 240) == (0, 0, 1)
    with store_transaction(store_url) as conn:
        row = conn.execute(select(alert)).one()
    assert row.status == "resolved" and row.ends_at == T0 + timedelta(seconds=240)


def test_rules_read_check_failures_and_the_latest_certificate(store_url: str) -> None:
    catalog = Catalog.model_validate(
        {
            "services": [
                {"name": "api", "url": "http://api", "checks": [{"name": "tls", "url": "/"}]}
            ]
        }
    )
    day = 86400.0
    with store_transaction(store_url) as conn:
        ids = sync_services(conn, services=catalog.services)
        for n, (ok, cert) in enumerate([(True, 90 * day), (False, 9 * day), (False, None)]):
            outcome = CheckOutcome("api", "tls", ok, 1000.0 + n, 5.0, 200 if ok else 500, "x", cert)
            record_sweep(
                conn, sweep_id=f"s{n}", outcomes=[outcome], ids=ids, thresholds=catalog.thresholds()
            )
        rules = [Rule("CertExpiring", "cert_expiring", ("api",), within_s=14 * day)]
        data = alerts.rule_data(conn, rules=rules, now=0.0)
    assert data.checks == {("api", "tls"): CheckFacts(2, "x", 9 * day)}


def test_silences_are_added_listed_and_expired(store_url: str) -> None:
    with store_transaction(store_url) as conn:
        now_id = alerts.add_silence(
            conn,
            matchers=["service=api"],
            starts_at=T0,
            ends_at=T0 + timedelta(hours=2),
            comment="deploy",
        )
        later_id = alerts.add_silence(
            conn,
            matchers=['alertname=~"High.*"'],
            starts_at=T0 + timedelta(days=1),
            ends_at=T0 + timedelta(days=2),
        )
        with pytest.raises(ValueError, match="regular expression"):
            alerts.add_silence(
                conn, matchers=["service=~(("], starts_at=T0, ends_at=T0 + timedelta(hours=1)
            )
        listed = alerts.list_silences(conn, now=T0 + timedelta(minutes=1))
        assert [(s.id, s.active(T0 + timedelta(minutes=1))) for s in listed] == [
            (now_id, True),
            (later_id, False),
        ]
        assert alerts.expire_silence(conn, silence_id=later_id, now=T0)
        assert not alerts.expire_silence(conn, silence_id=later_id, now=T0)
        assert [s.id for s in alerts.list_silences(conn, now=T0)] == [now_id]
        assert len(alerts.list_silences(conn, now=T0, expired=True)) == 2


def test_the_silence_commands_add_list_and_expire(store_url: str) -> None:
    runner = CliRunner()
    added = runner.invoke(
        silence_app,
        [
            "add",
            "--match",
            "service=api",
            "--for",
            "2h",
            "--comment",
            "db migration",
            "--by",
            "ana",
            "--url",
            store_url,
        ],
    )
    assert added.exit_code == 0, added.output
    assert added.output.startswith("silence 1: service=api from ")
    listed = runner.invoke(silence_app, ["list", "--json", "--url", store_url])
    row = json.loads(listed.output)
    assert row["matchers"] == ['service="api"'] and row["state"] == "active"
    assert row["created_by"] == "ana" and row["comment"] == "db migration"
    assert runner.invoke(silence_app, ["expire", "1", "--url", store_url]).exit_code == 0
    assert runner.invoke(silence_app, ["list", "--url", store_url]).output.strip() == "no silences"
    again = runner.invoke(silence_app, ["expire", "1", "--url", store_url])
    assert again.exit_code == 2 and "already over" in again.output
    bad = runner.invoke(silence_app, ["add", "-m", "service", "--comment", "x", "--url", store_url])
    assert bad.exit_code == 2 and "not a matcher" in bad.output


def test_group_states_round_trip_and_notifications_are_logged_once(store_url: str) -> None:
    group = ('root:{service="api"}', "ops")
    state = GroupState(T0, T0, T0, frozenset({"f1", "f2"}), frozenset({"f0"}))
    note = Notification(group[0], "ops", RouteNode(), {"service": "api"}, (), ())
    with store_transaction(store_url) as conn:
        alerts.save_groups(conn, states=[(group, {"service": "api"}, state)])
        alerts.save_groups(conn, states=[(group, {"service": "api"}, state)])
        assert alerts.load_groups(conn) == {group: state}
        alerts.log_notification(conn, note=note, title="t", now=T0)
        alerts.log_notification(conn, note=note, title="t", now=T0)  # a rerun
        alerts.save_groups(conn, states=[], forget=[group])
        assert alerts.load_groups(conn) == {}
    assert count(store_url, alert_notification) == 1


def test_dispatch_sees_every_source_and_resolved_alerts_a_receiver_was_told_of(
    store_url: str,
) -> None:
    rows = [
        ("a", "firing", "CheckDown", "health-check", {"service": "api", "check": "h"}, ""),
        ("b", "resolved", "HighLatency", "rules", {"service": "api"}, "slow"),
        ("c", "resolved", "Other", "alertmanager", {"alertname": "Other", "job": "x"}, ""),
    ]
    with store_transaction(store_url) as conn:
        for fp, status, name, source, labels, summary in rows:
            conn.execute(
                alert.insert().values(
                    fingerprint=fp,
                    starts_at=T0,
                    status=status,
                    name=name,
                    source=source,
                    labels=labels,
                    summary=summary,
                    service=labels.get("service"),
                    ends_at=None if status == "firing" else T0,
                    updated_at=T0,
                    severity="high",
                )
            )
        found = alerts.dispatch_alerts(conn, told={"a", "b"})
    assert [(a.fingerprint, a.status) for a in found] == [("a", "firing"), ("b", "resolved")]
    assert found[0].labels == {
        "service": "api",
        "check": "h",
        "alertname": "CheckDown",
        "severity": "high",
    }
    assert found[1].annotations == {"summary": "slow"}


def test_an_incident_is_opened_once_updated_escalated_and_reopened_after_resolution(
    store_url: str,
) -> None:
    key = 'root/critical:{alertname="CheckDown",service="api"}'
    with store_transaction(store_url) as conn:
        first = open_or_update_incident(
            conn, service="api", severity="high", title="api down", key=key, now=T0
        )
        repeat = open_or_update_incident(
            conn,
            service="api",
            severity="high",
            title="api down",
            key=key,
            now=T0 + timedelta(hours=4),
        )
        worse = open_or_update_incident(
            conn,
            service="api",
            severity="critical",
            title="worse",
            key=key,
            now=T0 + timedelta(hours=5),
        )
        assert note_alerts_resolved(conn, key=key, now=T0 + timedelta(hours=6), message="ok")
        conn.execute(
            incident.update().values(status="resolved", resolved_at=T0 + timedelta(hours=7))
        )
        again = open_or_update_incident(
            conn, service="api", severity="low", title="again", key=key, now=T0 + timedelta(days=1)
        )
        kinds = (
            conn.execute(
                select(incident_event.c.kind)
                .where(incident_event.c.incident_id == first.id)
                .order_by(incident_event.c.ts, incident_event.c.kind)
            )
            .scalars()
            .all()
        )
    assert (first.opened, first.level, repeat.opened, repeat.id) == (True, "L3", False, first.id)
    assert (worse.escalated, worse.level, worse.severity) == (True, "L4", "critical")
    assert kinds == ["opened", "alerts", "alerts", "escalated", "alerts_resolved"]
    assert again.opened and again.id != first.id and again.key == f"{key}#2"
    assert count(store_url, incident) == 2
