"""Alerting tasks: evaluate rules into alerts, plan notifications, deliver them, record them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection

from postdeploy.adapters.notify import DeliveryError, Target, alert_event, deliver, render_safely
from postdeploy.domain.alerting import (
    INCIDENT,
    Inhibition,
    Notification,
    RouteNode,
    Rule,
    Window,
    suppressed,
)
from postdeploy.domain.alerting import plan as plan_groups
from postdeploy.domain.alerting.dispatch import GroupId, Plan
from postdeploy.domain.alerting.rules import (
    DEFAULT_SUMMARY,
    BurnFact,
    Scores,
    Signal,
    advance,
    evaluate,
)
from postdeploy.store import alerts
from postdeploy.store.incidents import IncidentChange, note_alerts_resolved, open_or_update_incident
from postdeploy.store.session import in_store


def annotate(signal: Signal) -> tuple[str, dict[str, str]]:
    """The alert's summary and annotations, rendered from the rule's templates."""
    rule = signal.rule
    context = {
        "labels": dict(signal.labels), "value": signal.value, "detail": signal.detail,
        "threshold": rule.value, "op": rule.op, "rule": rule.name, "times": rule.times,
    }  # fmt: skip
    summary = render_safely(rule.summary, DEFAULT_SUMMARY[rule.kind], context)
    notes = {k: render_safely(v, "", context) for k, v in rule.annotations}
    return summary, {**notes, "summary": summary}


@task(name="evaluate-alert-rules", cache_policy=NO_CACHE)
def evaluate_rules(
    url: str,
    rules: Sequence[Rule],
    at: datetime,
    scores: Scores | None = None,
    burns: Sequence[BurnFact] = (),
) -> dict[str, Any]:
    """Rules over the store's data: pending alerts wait out `for`, then fire; cleared resolve."""
    now = at.timestamp()

    def work(conn: Connection) -> dict[str, Any]:
        data = alerts.rule_data(conn, rules=rules, now=now, burns=burns)
        pending, firing = alerts.rule_state(conn)
        step = advance(evaluate(rules, data, now, scores), pending=pending, firing=firing, now=now)
        texts = {s.fingerprint: annotate(s) for s in step.firing}
        alerts.save_rule_step(conn, step=step, texts=texts, now=at)
        return {
            "firing": len(step.firing),
            "pending": len(step.pending),
            "fired": [texts[fp][0] for fp in step.fired],
            "resolved": list(step.resolved),
        }

    out = in_store(url, work)
    get_run_logger().info(
        "%d rules: %d firing (%d new), %d pending, %d resolved", len(rules), out["firing"],
        len(out["fired"]), out["pending"], len(out["resolved"]),
    )  # fmt: skip
    return out


@task(name="plan-notifications", cache_policy=NO_CACHE)
def plan_notifications(
    url: str,
    tree: RouteNode,
    inhibitions: Sequence[Inhibition],
    windows: Sequence[Window],
    tz: tzinfo,
    at: datetime,
) -> tuple[Plan, dict[str, str]]:
    """Every alert routed and grouped; each group's flush decided. Returns the plan and the
    muted alerts (fingerprint -> why)."""

    def work(conn: Connection) -> Any:
        states = alerts.load_groups(conn)
        told = {fp for s in states.values() for fp in s.firing}
        return states, alerts.dispatch_alerts(conn, told=told), alerts.list_silences(conn, now=at)

    states, found, silences = in_store(url, work)
    muted = suppressed(
        [(a.fingerprint, a.labels, a.firing) for a in found],
        now=at, silences=silences, windows=windows, inhibitions=inhibitions, tz=tz,
    )  # fmt: skip
    return plan_groups(found, tree, states=states, muted=set(muted), now=at), dict(muted)


def message(note: Notification) -> dict[str, Any]:
    return alert_event(note.context(), title=note.route.title, text=note.route.text)


@task(name="send-notifications", cache_policy=NO_CACHE)
def send_notifications(
    plan: Plan, targets: Mapping[str, Target]
) -> tuple[dict[GroupId, str], dict[GroupId, str]]:
    """Deliver each due notification; returns (sent: title, failed: why) by group. No task
    retries: a failed group stays due and the next run sends it, the others are not resent."""
    sent: dict[GroupId, str] = {}
    failed: dict[GroupId, str] = {}
    log = get_run_logger()
    for decision in plan.decisions:
        note = decision.notification
        if note is None or note.receiver == INCIDENT:
            continue
        event = message(note)
        try:
            deliver(note.receiver, targets[note.receiver], event)
            sent[decision.group] = event["title"]
        except DeliveryError as exc:
            failed[decision.group] = str(exc)
            log.error("%s: %s", note.group_key, exc)
    log.info("sent %d notifications, %d failed", len(sent), len(failed))
    return sent, failed


def _incident(
    conn: Connection, note: Notification, title: str, levels: Mapping[str, str], at: datetime
) -> IncidentChange | None:
    if not note.firing:
        note_alerts_resolved(conn, key=note.group_key, now=at, message=title)
        return None
    severities = [a.labels.get("severity", "") for a in note.firing]
    severity = note.route.incident_severity or max(severities, key=lambda s: levels.get(s, ""))
    services = sorted({a.labels.get("service", "") for a in note.firing} - {""})
    data = {"group_key": note.group_key, "alerts": [a.fingerprint for a in note.firing]}
    return open_or_update_incident(
        conn, service=",".join(services)[:100], severity=severity, title=title,
        key=note.group_key, now=at, levels=levels, data=data,
    )  # fmt: skip


@task(name="record-notifications", cache_policy=NO_CACHE)
def record_notifications(
    url: str, plan: Plan, sent: Mapping[GroupId, str], levels: Mapping[str, str], at: datetime
) -> list[IncidentChange]:
    """Keep each group's state and log what was sent; a route with `incident:` opens or
    updates its incident here. A group whose delivery failed keeps its previous state."""

    def work(conn: Connection) -> list[IncidentChange]:
        states, changes = [], []
        for d in plan.decisions:
            note = d.notification
            title = sent.get(d.group)
            if note is not None and note.receiver == INCIDENT:
                title = message(note)["title"]
                change = _incident(conn, note, title, levels, at)
                changes += [change] if change else []
            if note is not None and title is None:
                states.append((d.group, d.labels, d.previous))
                continue
            states.append((d.group, d.labels, d.state))
            if note is not None and title is not None:
                alerts.log_notification(conn, note=note, title=title, now=at)
        alerts.save_groups(conn, states=states, forget=plan.forget)
        return changes

    return in_store(url, work)
