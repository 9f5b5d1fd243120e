"""sla-watch: every few minutes, escalate tickets and incidents that cross an SLA threshold one
level and tell the routes of the level they reach."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger

from flows.common import catalog as load
from flows.common import route_targets, store_url, with_store_retries
from tasks.incidents import notify_escalations, sweep_sla


@flow(name="sla-watch", description="Escalate tickets near or past their SLA and notify.")
def sla_watch(
    catalog_path: str | None = None,
    store_block: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Run the SLA sweep over open tickets with the catalog's targets; notify each escalation
    to its new level's routes. A rerun finds nothing new and sends nothing.

    Args:
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
        at: evaluate as of this time (tests, replays); default now.
    """
    cat = load(catalog_path)
    url = store_url(store_block)
    now = (at or datetime.now(UTC)).astimezone(UTC)
    targets: dict[str, Any] = {str(k): v for k, v in cat.sla.items()}
    result = with_store_retries(sweep_sla)(url, targets, now)
    routes: dict[str, list[str]] = {lv.level: list(lv.routes) for lv in cat.escalation.levels}
    raised = [
        e
        for e in result["escalations"] + result["incident_escalations"]
        if e["to_level"] != e["from_level"]
    ]
    sent = notify_escalations(raised, routes, route_targets(cat)) if raised else 0
    get_run_logger().info(
        "%d open tickets, %d near breach, %d breached, %d escalated, %d notifications",
        result["open"], result["near_breach"], result["breached"], len(raised), sent,
    )  # fmt: skip
    return {**result, "at": now.isoformat(), "escalated": len(raised), "notifications": sent}
