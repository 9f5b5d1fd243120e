"""incident-response: the critical incident runbook. Assess, open, escalate by severity,
communicate, run the emergency fix once an operator approves, monitor, resolve, review."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run

from flows.common import catalog as load
from flows.common import route_targets, store_url, with_store_retries
from postdeploy.catalog import Catalog, ServiceAction
from postdeploy.settings import get_settings
from tasks.incidents import (
    assess,
    communicate,
    monitor,
    notify_level,
    open_incident,
    post_incident_review,
    record_event,
    run_action,
)

Severity = Literal["critical", "high", "medium", "low"]


class FixApproval(RunInput):
    """The operator's decision on the emergency fix (the form the Prefect UI shows)."""

    approve: bool = False
    reason: str = ""
    operator: str = ""


def _now() -> datetime:
    return datetime.now(UTC)


def _approval(
    actions: list[ServiceAction], service: str, auto_approve: bool, timeout_s: int, poll_s: int
) -> FixApproval | None:
    """The operator's answer; None when nobody answered in time."""
    if auto_approve:
        return FixApproval(approve=True, reason="auto_approve (drill/demo)", operator="auto")
    listing = "\n".join(
        f"- `{a.name}`: {a.kind} "
        + (f"{a.method} {a.url}" if a.kind == "http" else " ".join(a.command or []))
        for a in actions
    )
    form = FixApproval.with_initial_data(
        description=f"Run the emergency fix of **{service}**?\n\n{listing}\n\n"
        "Set approve, give a reason and your name, then resume.",
    )
    try:
        return pause_flow_run(wait_for_input=form, timeout=timeout_s, poll_interval=poll_s)
    except FlowPauseTimeout:
        return None


def _fix(url: str, cat: Catalog, incident: dict[str, Any], approval: FixApproval | None) -> str:
    """Run the service's actions in order after approval; 'fixed', 'failed' or 'skipped'."""
    iid, svc = incident["id"], cat.service(incident["service"])
    if approval is None:
        record_event(url, iid, "fix_timeout", "no operator answered: fix skipped", _now())
        return "skipped"
    who = approval.operator or "unknown operator"
    verdict = "approved" if approval.approve else "rejected"
    record_event(
        url, iid, f"fix_{verdict}", f"{who} {verdict} the emergency fix: {approval.reason}",
        _now(), actor=who, data=approval.model_dump(),
    )  # fmt: skip
    if not approval.approve:
        return "skipped"
    for action in svc.actions:
        attempt = run_action.with_options(
            name=f"emergency-fix-{action.name}",
            retries=action.retries,
            retry_delay_seconds=action.retry_delay.total_seconds(),
        )
        state = attempt(
            action.kind, svc.resolve(action.url) if action.url else None, action.method,
            action.command, action.timeout.total_seconds(), return_state=True,
        )  # fmt: skip
        if not state.is_completed():
            error = state.result(raise_on_failure=False)
            record_event(
                url, iid, "fix_failed",
                f"{action.name} failed after {action.retries + 1} attempts: {error}", _now(),
                data={"action": action.name},
            )  # fmt: skip
            return "failed"
        detail = state.result()
        record_event(
            url, iid, "fix_applied", f"{action.name}: {detail}", _now(),
            data={"action": action.name}, mitigated=True,
        )  # fmt: skip
    return "fixed"


def _summary(
    incident: dict[str, Any], routes: list[str], fix: str, status: str, review: str | None
) -> dict[str, Any]:
    return {
        "incident": incident["id"],
        "key": incident["key"],
        "opened": incident["opened"],
        "level": incident["level"],
        "notified": routes,
        "fix": fix,
        "status": status,
        "review": review,
    }


@flow(name="incident-response", description="Runbook: respond to an incident on a service.")
def incident_response(
    service: str,
    severity: Severity,
    summary: str,
    commander: str | None = None,
    healthy_minutes: float = 15.0,
    monitor_timeout_minutes: float = 60.0,
    approval_timeout_s: int = 3600,
    auto_approve: bool = False,
    poll_s: int = 10,
    incident_key: str | None = None,
    catalog_path: str | None = None,
    store_block: str | None = None,
) -> dict[str, Any]:
    """Assess, open the incident, notify its escalation level, tell users, fix with approval,
    monitor, resolve and write the post-incident review.

    Args:
        service: the catalog service affected.
        severity: critical, high, medium or low; sets the escalation level (L4 to L1).
        summary: one line on what is wrong; the incident's title.
        commander: who leads the response; given, the incident counts as acknowledged.
        healthy_minutes: how long every check must stay up before the incident resolves.
        monitor_timeout_minutes: how long to wait for that; then the incident stays open.
        approval_timeout_s: how long to wait for an operator to approve the fix.
        auto_approve: for drills and demos only: run the fix without asking anyone.
        poll_s: seconds between looks at the approval and at the check states.
        incident_key: attach to this key; default one per flow run, so a retry reuses it.
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
    """
    log = get_run_logger()
    cat = load(catalog_path)
    try:
        svc = cat.service(service)
    except KeyError:
        known = ", ".join(s.name for s in cat.services)
        raise ValueError(f"unknown service {service!r}; the catalog has: {known}") from None
    url = store_url(store_block)
    reports = get_settings().reports_dir
    key = incident_key or f"incident-response:{flow_run.get_id() or _now().isoformat()}"

    found = assess(url, service, svc.depends_on, _now())
    levels = cat.escalation.severity_levels
    incident = with_store_retries(open_incident)(
        url, key=key, service=service, severity=severity, summary=summary,
        commander=commander, levels=levels, assessment=found, now=_now(),
    )  # fmt: skip
    level = next((lv for lv in cat.escalation.levels if lv.level == incident["level"]), None)
    routes = level.routes if level else []
    if incident["opened"]:
        notify_level(url, incident, routes, route_targets(cat), _now())
        communicate(url, cat, incident, "investigating", reports, _now())

    fix = "none configured"
    if svc.actions:
        approval = _approval(svc.actions, service, auto_approve, approval_timeout_s, poll_s)
        fix = _fix(url, cat, incident, approval)
        if fix == "fixed":
            communicate(url, cat, incident, "identified", reports, _now())
    if fix == "failed":  # the failure is on the timeline; people take over from here
        log.error("incident %s stays open: the emergency fix failed", incident["id"])
        return _summary(incident, routes, fix, "open", None)
    communicate(url, cat, incident, "monitoring", reports, _now())

    watched = monitor(url, service, healthy_minutes * 60, monitor_timeout_minutes * 60, poll_s)
    review = None
    if watched["healthy"]:
        record_event(url, incident["id"], "recovered", f"{service} healthy", _now(), mitigated=True)
        communicate(url, cat, incident, "resolved", reports, _now())
        review = post_incident_review(url, cat, incident["id"], reports)
        status = "resolved"
    else:
        not_up = ", ".join(watched["not_up"]) or "no check states"
        record_event(
            url, incident["id"], "monitor_timeout",
            f"{service} not healthy after {monitor_timeout_minutes} min ({not_up}): left open",
            _now(),
        )  # fmt: skip
        status = "open"
        log.warning("incident %s stays open: %s not healthy", incident["id"], service)
    return _summary(incident, routes, fix, status, review)


if __name__ == "__main__":  # `postdeploy incident open --local` runs it here, with JSON parameters
    print(json.dumps(incident_response(**json.loads(sys.argv[1])), default=str))
