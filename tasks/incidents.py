"""Incident response tasks: assess, open, notify a level, communicate, fix, monitor, review."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection

from postdeploy.adapters.notify import Target, deliver
from postdeploy.catalog import Catalog
from postdeploy.domain.incident_review import Event, IncidentFacts, build_review, user_message
from postdeploy.reporting.incident_review import write_incident_review
from postdeploy.reporting.status import write_status_page
from postdeploy.store import incidents as store
from postdeploy.store.session import in_store

ACTOR = "incident-response"


@task(name="assess", cache_policy=NO_CACHE)
def assess(url: str, service: str, depends_on: Sequence[str], now: datetime) -> dict[str, Any]:
    """Check states of the service and its dependencies, deploys in the last 24 hours, firing
    alerts and the top error signatures of today and yesterday."""
    days = [(now - timedelta(days=d)).strftime("%Y-%m-%d") for d in (0, 1)]
    services = [service, *depends_on]

    def work(conn: Connection) -> dict[str, Any]:
        return {
            "checks": store.service_check_states(conn, services=services),
            "deploys": store.recent_deploys(
                conn, services=services, since=now - timedelta(hours=24), until=now
            ),
            "alerts": store.firing_alerts_for(conn, service=service),
            "errors": store.top_errors(conn, service=service, days=days),
        }

    found = in_store(url, work)
    down = [f"{c['service']}/{c['check_name']}" for c in found["checks"] if c["status"] != "up"]
    found["down"] = down
    get_run_logger().info(
        "%s: %d checks not up %s, %d deploys in 24 h, %d firing alerts, %d error signatures",
        service, len(down), down, len(found["deploys"]), len(found["alerts"]), len(found["errors"]),
    )  # fmt: skip
    return found


def _assessment_text(found: Mapping[str, Any]) -> str:
    deploys = ", ".join(f"{d['service']} {d['version']}" for d in found["deploys"]) or "none"
    return (
        f"assessment: not up: {', '.join(found['down']) or 'none'}; deploys in 24 h: {deploys};"
        f" firing alerts: {len(found['alerts'])}; error signatures: {len(found['errors'])}"
    )


@task(name="open-incident", cache_policy=NO_CACHE)
def open_incident(
    url: str,
    *,
    key: str,
    service: str,
    severity: str,
    summary: str,
    commander: str | None,
    levels: Mapping[str, str],
    assessment: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """Open the incident under `key` with the assessment on its timeline; a retried run finds
    the incident it opened before and opens nothing."""

    def work(conn: Connection) -> dict[str, Any]:
        found = store.find_incident(conn, key=key)
        if found is not None:
            return {**found, "opened": False}
        change = store.open_or_update_incident(
            conn, service=service, severity=severity, title=summary, key=key, now=now,
            levels=levels, data={"source": ACTOR},
        )  # fmt: skip
        store.add_event(
            conn, incident_id=change.id, now=now, kind="assessment", actor=ACTOR,
            message=_assessment_text(assessment), data={"down": assessment["down"]},
        )  # fmt: skip
        for i, a in enumerate(assessment["alerts"]):
            store.add_event(
                conn, incident_id=change.id, now=now + timedelta(microseconds=i + 1),
                kind="assessment_alert", actor=ACTOR,
                message=f"{a['name']} ({a['severity']}) firing since {a['starts_at']}: "
                f"{a['summary']}",
            )  # fmt: skip
        if commander:
            store.set_commander(conn, incident_id=change.id, commander=commander, now=now)
            store.stamp(conn, incident_id=change.id, milestone="acknowledged", now=now)
        return {**store.get_incident(conn, incident_id=change.id), "opened": True}

    found = in_store(url, work)
    get_run_logger().info(
        "incident %s (%s) %s", found["id"], found["key"], "opened" if found["opened"] else "found"
    )
    return found


@task(name="notify-level", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def notify_level(
    url: str,
    incident: Mapping[str, Any],
    routes: Sequence[str],
    targets: Mapping[str, Target],
    now: datetime,
) -> int:
    """Tell the routes of the incident's escalation level; recorded on the timeline."""
    level, iid = incident["level"], incident["id"]
    event = {
        "event": "incident.escalated", "incident": iid, "key": incident["key"],
        "service": incident["service"], "severity": incident["severity"], "level": level,
        "title": f"[{level} {incident['severity']}] incident {iid} on {incident['service']}",
        "summary": f"[{level} {incident['severity']}] incident {iid} on {incident['service']}:"
        f" {incident['title']}",
    }  # fmt: skip
    for route in routes:
        deliver(route, targets[route], event)
    message = f"{level} notified via {', '.join(routes) or 'no routes (none configured)'}"
    in_store(
        url,
        lambda conn: store.add_event(
            conn, incident_id=iid, now=now, kind="escalated", actor=ACTOR, message=message,
            data={"level": level, "routes": list(routes)},
        ),
    )  # fmt: skip
    get_run_logger().info("incident %s: %s", iid, message)
    return len(routes)


@task(name="communicate", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def communicate(
    url: str,
    catalog: Catalog,
    incident: Mapping[str, Any],
    state: str,
    reports_dir: Path,
    now: datetime,
) -> str:
    """Move the incident to `state`, post the user message for it, rewrite the status page."""
    message = user_message(state, service=incident["service"], summary=incident["title"])

    def work(conn: Connection) -> None:
        store.set_state(
            conn, incident_id=incident["id"], state=state, now=now, actor=ACTOR,
            message=message, kind="communication",
        )  # fmt: skip
        write_status_page(conn, catalog, Path(reports_dir) / "status", now)

    in_store(url, work)
    get_run_logger().info("incident %s %s: %s", incident["id"], state, message)
    return message


@task(name="record-event", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def record_event(
    url: str,
    incident_id: int,
    kind: str,
    message: str,
    now: datetime,
    actor: str = ACTOR,
    data: Mapping[str, Any] | None = None,
    mitigated: bool = False,
) -> None:
    def work(conn: Connection) -> None:
        store.add_event(conn, incident_id=incident_id, now=now, kind=kind, message=message,
                        actor=actor, data=data)  # fmt: skip
        if mitigated:
            store.stamp(conn, incident_id=incident_id, milestone="mitigated", now=now)
        if kind == "fix_approved" or kind == "fix_rejected":
            store.stamp(conn, incident_id=incident_id, milestone="acknowledged", now=now)

    in_store(url, work)


@task(name="emergency-fix", cache_policy=NO_CACHE)
def run_action(
    kind: str, url: str | None, method: str, command: Sequence[str] | None, timeout_s: float
) -> str:
    """One attempt of a fix action; raises on failure so the task's retries apply."""
    if kind == "http":
        assert url is not None
        response = httpx.request(method, url, timeout=timeout_s)
        response.raise_for_status()
        return f"{method} {url}: HTTP {response.status_code}"
    assert command
    done = subprocess.run(  # noqa: S603 - an argv from the catalog, no shell
        list(command), capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-300:]
        raise RuntimeError(f"{command[0]} exited {done.returncode}: {tail}")
    return f"{command[0]} exited 0"


@task(name="monitor", cache_policy=NO_CACHE)
def monitor(
    url: str, service: str, healthy_for_s: float, timeout_s: float, poll_s: float
) -> dict[str, Any]:
    """Wait until every check of the service has been up for `healthy_for_s`, or time out."""
    log = get_run_logger()
    deadline = time.monotonic() + timeout_s
    while True:
        states = in_store(url, lambda conn: store.service_check_states(conn, services=[service]))
        now = time.time()
        up = bool(states) and all(s["status"] == "up" for s in states)
        healthy_since = max(s["since"] for s in states) if up else None
        if healthy_since is not None and now - healthy_since >= healthy_for_s:
            log.info("%s healthy for %.0f s", service, now - healthy_since)
            return {"healthy": True, "since": healthy_since}
        if time.monotonic() >= deadline:
            not_up = [s["check_name"] for s in states if s["status"] != "up"]
            log.warning("%s not healthy in time; not up: %s", service, not_up or "no checks")
            return {"healthy": False, "not_up": not_up}
        time.sleep(max(0.0, min(poll_s, deadline - time.monotonic())))


def _facts(row: Mapping[str, Any]) -> IncidentFacts:
    return IncidentFacts(
        row["id"], row["key"], row["service"], row["severity"], row["level"], row["status"],
        row["title"], row["commander"], row["opened_at"], row["acknowledged_at"],
        row["mitigated_at"], row["resolved_at"],
    )  # fmt: skip


@task(name="post-incident-review", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def post_incident_review(
    url: str, catalog: Catalog, incident_id: int, reports_dir: Path, now: datetime | None = None
) -> str:
    """Write reports/incidents/<id>/ (Markdown and HTML) and a Prefect markdown artifact."""
    now = now or datetime.now(UTC)

    def work(conn: Connection) -> tuple[dict[str, Any], list[dict[str, Any]], list[Any]]:
        row = store.get_incident(conn, incident_id=incident_id)
        events = store.incident_events(conn, incident_id=incident_id)
        deploys = store.recent_deploys(
            conn, services=[row["service"]], since=row["opened_at"] - timedelta(hours=24),
            until=row["opened_at"],
        )  # fmt: skip
        return row, events, deploys

    row, events, deploys = in_store(url, work)
    target = catalog.sla.get(row["severity"]) or catalog.sla["medium"]
    review = build_review(
        _facts(row),
        [Event(e["ts"], e["kind"], e["actor"], e["message"], e["data"]) for e in events],
        response=target.response, resolution=target.resolution, deploys=deploys, now=now,
    )  # fmt: skip
    files = write_incident_review(review, out_dir=Path(reports_dir) / "incidents")
    create_markdown_artifact(
        key=f"incident-review-{incident_id}",
        markdown=files.markdown_text + f"\nHTML report: `{files.html.resolve()}`\n",
        description=f"Post-incident review of incident {incident_id}",
    )
    return str(files.html)


@task(name="sla-sweep", cache_policy=NO_CACHE)
def sweep_sla(url: str, targets: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Escalate open tickets and incidents past SLA thresholds (committed before anyone is
    told, so a rerun never escalates or notifies twice)."""
    from postdeploy.store.incident_sla import incident_sla_sweep
    from postdeploy.store.tickets import sla_sweep

    def work(conn: Connection) -> tuple[Any, list[dict[str, Any]]]:
        tickets = sla_sweep(conn, now=now, targets=targets)
        return tickets, incident_sla_sweep(conn, now=now, targets=targets)

    result, incidents = in_store(url, work)
    return {
        "open": result.open,
        "near_breach": result.near_breach,
        "breached": result.breached,
        "escalations": [e._asdict() for e in result.escalations],
        "incident_escalations": incidents,
    }


@task(name="notify-escalations", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def notify_escalations(
    escalations: Sequence[Mapping[str, Any]],
    routes: Mapping[str, Sequence[str]],
    targets: Mapping[str, Target],
) -> int:
    """Each escalated ticket or incident, to the routes of the level it reached; returns
    messages sent."""
    sent = 0
    for e in escalations:
        reasons = ", ".join(e["crossed"])
        if "incident" in e:
            event = {
                "event": "incident.escalated", "incident": e["incident"],
                "service": e["service"], "severity": e["severity"],
                "from_level": e["from_level"], "to_level": e["to_level"],
                "crossed": list(e["crossed"]),
                "summary": f"[{e['to_level']}] {e['severity']} incident {e['incident']} "
                f"({e['title']}) escalated from {e['from_level']}: {reasons}",
            }  # fmt: skip
            for route in routes.get(e["to_level"], ()):
                deliver(route, targets[route], event)
                sent += 1
            continue
        event = {
            "event": "ticket.escalated", "source": e["source"], "ticket": e["external_id"],
            "priority": e["priority"], "from_level": e["from_level"], "to_level": e["to_level"],
            "crossed": list(e["crossed"]),
            "summary": f"[{e['to_level']}] {e['priority']} ticket {e['source']}/"
            f"{e['external_id']} escalated from {e['from_level']}: {reasons}",
        }  # fmt: skip
        for route in routes.get(e["to_level"], ()):
            deliver(route, targets[route], event)
            sent += 1
    get_run_logger().info("sent %d notifications for %d escalations", sent, len(escalations))
    return sent
