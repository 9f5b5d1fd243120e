"""alerting: evaluate the catalog's alert rules, then silence, inhibit, group and route every
firing alert (rules, health checks, Alertmanager) to its receivers, Alertmanager-style."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow

from flows.common import catalog as load
from flows.common import route_targets, store_url, with_store_retries
from postdeploy.adapters.notify import DeliveryError
from postdeploy.catalog import Catalog
from postdeploy.domain.alerting import INCIDENT, BurnFact, RouteNode
from postdeploy.domain.alerting.rules import Scores
from postdeploy.store.session import in_store
from tasks.alerting import (
    evaluate_rules,
    plan_notifications,
    record_notifications,
    send_notifications,
)


def anomaly_detector() -> Scores | None:
    """The detector anomaly rules use: values in, 0/1 per value out (postdeploy's causal
    detector, see benchmarks/README.md for its NAB score)."""
    from postdeploy.domain.anomalies import detect

    return lambda values: [flag for _, flag in detect(values)]


def slo_burn_facts(url: str, cat: Catalog, at: datetime) -> list[BurnFact]:
    """Burn-rate decisions (service, page/ticket, firing) that slo_burn rules turn into alerts."""
    from postdeploy.store.slo import service_slos

    slos = in_store(url, lambda conn: service_slos(conn, services=cat.services, now=at))
    return [
        BurnFact(service, alert.rule.severity, alert.firing)
        for service, statuses in slos.items()
        for status in statuses
        for alert in status.alerts
    ]


@flow(name="alerting", description="Evaluate alert rules; group, silence and route alerts.")
def alerting(
    catalog_path: str | None = None,
    store_block: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Evaluate the alert rules and notify each alert group's receivers when it is due.

    Args:
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
        at: evaluate as of this time (tests, replays); default now.
    """
    cat = load(catalog_path)
    url = store_url(store_block)
    now = (at or datetime.now(UTC)).astimezone(UTC)
    names = [s.name for s in cat.services]
    rules = [r.spec(names) for r in cat.alert_rules]
    evaluated = with_store_retries(evaluate_rules)(
        url, rules, now, anomaly_detector(), slo_burn_facts(url, cat, now)
    )
    tree = cat.alert_routing.tree() if cat.alert_routing else RouteNode()
    inhibitions = [i.spec() for i in cat.inhibit_rules]
    plan, muted = with_store_retries(plan_notifications)(
        url, tree, inhibitions, cat.alert_windows(), cat.zone(), now
    )
    due = [d for d in plan.decisions if d.notification is not None]
    sent, failed = send_notifications(plan, route_targets(cat)) if due else ({}, {})
    levels = cat.escalation.severity_levels
    incidents = with_store_retries(record_notifications)(url, plan, sent, levels, now)
    summary = {
        "at": now.isoformat(),
        "rules": evaluated,
        "muted": muted,
        "unrouted": len(plan.unrouted),
        "notifications": [
            {"receiver": d.group[1], "group": d.group[0], "status": n.status,
             "firing": len(n.firing), "resolved": len(n.resolved)}
            for d in due if (n := d.notification) and (d.group in sent or d.group[1] == INCIDENT)
        ],
        "failed": {f"{g[1]} {g[0]}": why for g, why in failed.items()},
        "incidents": [
            {"id": c.id, "key": c.key, "opened": c.opened, "escalated": c.escalated,
             "severity": c.severity, "level": c.level}
            for c in incidents
        ],
    }  # fmt: skip
    if failed:
        raise DeliveryError(f"{len(failed)} notifications failed: {summary['failed']}")
    return summary
