"""health-check: probe every check in the catalog, store the results, alert on state changes."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows.common import catalog as load
from flows.common import route_targets, store_url, with_store_retries
from postdeploy.settings import get_settings
from tasks.checks import probe_all
from tasks.notify import notify_state_changes
from tasks.reports import status_page, uptime_report
from tasks.store import record_sweep


@flow(name="health-check", description="Probe every service's checks and alert on changes.")
def health_check(
    catalog_path: str | None = None,
    services: list[str] | None = None,
    store_block: str | None = None,
    write_report: bool = True,
) -> dict[str, Any]:
    """Probe the catalog's checks in batches, store results, notify routes of state changes.

    Args:
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG or data/postdeploy.yaml.
        services: only these services; default all.
        store_block: name of a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
        write_report: also refresh reports/uptime (and its artifacts) and reports/status.
    """
    log = get_run_logger()
    settings = get_settings()
    cat = load(catalog_path)
    specs = cat.probe_specs(services)
    outcomes = probe_all(
        specs, batch_size=settings.probe_batch_size, concurrency=settings.probe_concurrency
    )
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        log.warning("%s/%s failed: %s", o.service, o.check, o.detail)

    url = store_url(store_block)
    sweep_id = flow_run.get_id() or "local"
    transitions = with_store_retries(record_sweep)(url, cat, sweep_id, outcomes)

    routes = {
        s.name: list(dict.fromkeys(cat.notify_on_state_change + s.routes)) for s in cat.services
    }
    sent = notify_state_changes(transitions, routes, route_targets(cat)) if transitions else 0
    report = status = None
    if write_report:
        report = with_store_retries(uptime_report)(url, settings.reports_dir)
        status = with_store_retries(status_page)(url, cat, settings.reports_dir, bool(transitions))
    return {
        "checks": len(outcomes),
        "failed": len(failed),
        "state_changes": [t.summary for t in transitions],
        "notifications": sent,
        "report": report,
        "status_page": status,
    }
