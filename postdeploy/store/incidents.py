"""Incidents opened or updated by alert routes: one per alert group, a timeline of events."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from postdeploy.catalog import Escalation
from postdeploy.store.schema import (
    alert,
    check_state,
    deployment,
    incident,
    incident_event,
    log_daily,
    log_signature,
    service,
)
from postdeploy.store.upsert import upsert

CLOSED = ("resolved", "closed")


@dataclass(frozen=True)
class IncidentChange:
    id: int
    key: str
    opened: bool  # a new incident: start the incident response
    escalated: bool  # an open one got a more severe level
    severity: str
    level: str


def _stored_key(key: str) -> str:
    if len(key) <= 90:  # the column holds 100: room for a "#n" of a later occurrence
        return key
    return f"{key[:57]}~{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def _event(conn: Connection, incident_id: int, now: datetime, kind: str, message: str,
           data: Mapping[str, Any] | None = None) -> None:  # fmt: skip
    row = {"incident_id": incident_id, "ts": now, "kind": kind, "message": message,
           "actor": "postdeploy-alerting", "data": dict(data or {})}  # fmt: skip
    upsert(conn, incident_event, [row], keys=["incident_id", "ts", "kind"])


def _latest(conn: Connection, key: str) -> Any:
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return conn.execute(
        select(incident)
        .where(or_(incident.c.key == key, incident.c.key.like(f"{escaped}#%", escape="\\")))
        .order_by(incident.c.opened_at.desc(), incident.c.id.desc())
        .limit(1)
    ).first()


def open_or_update_incident(
    conn: Connection,
    *,
    service: str,
    severity: str,
    title: str,
    key: str,
    now: datetime,
    levels: Mapping[str, str] | None = None,
    data: Mapping[str, Any] | None = None,
) -> IncidentChange:
    """Open an incident for `key` (an alert group's), or add to the open one: a repeat is an
    event on its timeline, a more severe level escalates it. Once the incident is resolved,
    the same key opens a new one. Severity maps to a level by escalation.severity_levels;
    an unknown severity is L1."""
    levels = levels or Escalation().severity_levels
    level = levels.get(severity, "L1")
    key = _stored_key(key)
    found = _latest(conn, key)
    if found is not None and found.status not in CLOSED and found.resolved_at is None:
        escalated = level > found.level
        if escalated:
            conn.execute(
                incident.update()
                .where(incident.c.id == found.id)
                .values(severity=severity, level=level)
            )
            _event(conn, found.id, now, "escalated", f"{found.level} -> {level}: {title}", data)
        _event(conn, found.id, now, "alerts", title, data)
        current = (severity, level) if escalated else (found.severity, found.level)
        return IncidentChange(found.id, found.key, False, escalated, *current)
    new_key = key if found is None else f"{key}#{_occurrence(found.key) + 1}"
    inserted = conn.execute(
        incident.insert().values(
            key=new_key, service=service, severity=severity, level=level, status="open",
            title=title, opened_at=now,
        )
    ).inserted_primary_key  # fmt: skip
    assert inserted is not None
    new_id = int(inserted[0])
    _event(conn, new_id, now, "opened", title, data)
    return IncidentChange(new_id, new_key, True, False, severity, level)


def _occurrence(key: str) -> int:
    _, _, n = key.rpartition("#")
    return int(n) if n.isdigit() else 1


def note_alerts_resolved(conn: Connection, *, key: str, now: datetime, message: str) -> bool:
    """Note on the open incident of `key` that its alerts resolved; the incident stays open
    for the incident response to close."""
    found = _latest(conn, _stored_key(key))
    if found is None or found.status in CLOSED:
        return False
    _event(conn, found.id, now, "alerts_resolved", message)
    return True


# The incident response (flows/incident_response.py) and `postdeploy incident`: read an
# incident, move it through its states, and record every change as an event on its timeline.

STATES = ("open", "acknowledged", "investigating", "identified", "monitoring", "resolved")
_STAMPS = {"acknowledged": "acknowledged_at", "mitigated": "mitigated_at",
           "resolved": "resolved_at"}  # fmt: skip


class IncidentNotFound(LookupError):
    pass


def add_event(
    conn: Connection,
    *,
    incident_id: int,
    now: datetime,
    kind: str,
    message: str = "",
    actor: str = "postdeploy",
    data: Mapping[str, Any] | None = None,
) -> None:
    """One event on the timeline; the same (incident, time, kind) again is a no-op."""
    row = {"incident_id": incident_id, "ts": now, "kind": kind, "message": message,
           "actor": actor, "data": dict(data or {})}  # fmt: skip
    upsert(conn, incident_event, [row], keys=["incident_id", "ts", "kind"])


def get_incident(conn: Connection, *, incident_id: int) -> dict[str, Any]:
    row = conn.execute(select(incident).where(incident.c.id == incident_id)).first()
    if row is None:
        raise IncidentNotFound(f"incident {incident_id} is unknown")
    return dict(row._mapping)


def find_incident(conn: Connection, *, key: str) -> dict[str, Any] | None:
    """The latest incident opened under `key` (or a later occurrence of it)."""
    row = _latest(conn, _stored_key(key))
    return None if row is None else dict(row._mapping)


def incident_events(conn: Connection, *, incident_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(incident_event)
        .where(incident_event.c.incident_id == incident_id)
        .order_by(incident_event.c.ts, incident_event.c.id)
    )
    return [dict(r._mapping) for r in rows]


def list_incidents(conn: Connection, *, open_only: bool = False) -> list[dict[str, Any]]:
    query = select(incident).order_by(incident.c.opened_at.desc(), incident.c.id.desc())
    if open_only:
        query = query.where(incident.c.resolved_at.is_(None), incident.c.status.not_in(CLOSED))
    return [dict(r._mapping) for r in conn.execute(query)]


def stamp(conn: Connection, *, incident_id: int, milestone: str, now: datetime) -> bool:
    """Set acknowledged_at, mitigated_at or resolved_at once; False when already set."""
    column = incident.c[_STAMPS[milestone]]
    done = conn.execute(
        incident.update()
        .where(incident.c.id == incident_id, column.is_(None))
        .values({column: now})
    )
    return bool(done.rowcount)


def set_state(
    conn: Connection,
    *,
    incident_id: int,
    state: str,
    now: datetime,
    actor: str,
    message: str = "",
    kind: str = "state",
) -> None:
    """Move the incident to `state`, recorded as an event; acknowledged and resolved set their
    timestamp the first time (resolved implies acknowledged and mitigated)."""
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}; known: {', '.join(STATES)}")
    found = get_incident(conn, incident_id=incident_id)
    conn.execute(incident.update().where(incident.c.id == incident_id).values(status=state))
    if state != "open":
        stamp(conn, incident_id=incident_id, milestone="acknowledged", now=now)
    if state == "resolved":
        stamp(conn, incident_id=incident_id, milestone="mitigated", now=now)
        stamp(conn, incident_id=incident_id, milestone="resolved", now=now)
    data = {"from": found["status"], "to": state}
    add_event(conn, incident_id=incident_id, now=now, kind=kind, message=message or
              f"{found['status']} -> {state}", actor=actor, data=data)  # fmt: skip


def set_severity(
    conn: Connection,
    *,
    incident_id: int,
    severity: str,
    now: datetime,
    actor: str,
    levels: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """Change the severity (and with it the level); returns (old level, new level)."""
    levels = levels or Escalation().severity_levels
    if severity not in levels:
        raise ValueError(f"unknown severity {severity!r}; known: {', '.join(levels)}")
    found = get_incident(conn, incident_id=incident_id)
    level = levels[severity]
    conn.execute(
        incident.update().where(incident.c.id == incident_id).values(severity=severity, level=level)
    )
    add_event(
        conn, incident_id=incident_id, now=now, kind="severity", actor=actor,
        message=f"severity {found['severity']} -> {severity} ({found['level']} -> {level})",
        data={"from": found["severity"], "to": severity, "from_level": found["level"],
              "to_level": level},
    )  # fmt: skip
    return found["level"], level


def set_commander(conn: Connection, *, incident_id: int, commander: str, now: datetime) -> None:
    conn.execute(incident.update().where(incident.c.id == incident_id).values(commander=commander))
    add_event(conn, incident_id=incident_id, now=now, kind="commander", actor=commander,
              message=f"{commander} is the incident commander")  # fmt: skip


def recent_deploys(
    conn: Connection, *, services: Sequence[str], since: datetime, until: datetime
) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(deployment.c.service, deployment.c.version, deployment.c.deployed_at,
               deployment.c.verdict, deployment.c.commit)
        .where(deployment.c.service.in_(list(services)),
               deployment.c.deployed_at.between(since, until))
        .order_by(deployment.c.deployed_at)
    )  # fmt: skip
    return [dict(r._mapping) for r in rows]


def firing_alerts_for(conn: Connection, *, service: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(alert.c.name, alert.c.severity, alert.c.summary, alert.c.starts_at,
               alert.c.fingerprint)
        .where(alert.c.status == "firing", alert.c.service == service)
        .order_by(alert.c.starts_at)
    )  # fmt: skip
    return [dict(r._mapping) for r in rows]


def top_errors(
    conn: Connection, *, service: str, days: Sequence[str], limit: int = 5
) -> list[dict[str, Any]]:
    """The log signatures with the most error lines on `days` (YYYY-MM-DD), if reviewed."""
    errors = func.sum(log_daily.c.errors).label("errors")
    rows = conn.execute(
        select(log_signature.c.template, errors)
        .join(log_daily, (log_daily.c.service == log_signature.c.service)
              & (log_daily.c.signature_id == log_signature.c.signature_id))
        .where(log_daily.c.service == service, log_daily.c.day.in_(list(days)),
               log_daily.c.errors > 0)
        .group_by(log_signature.c.template)
        .order_by(errors.desc())
        .limit(limit)
    )  # fmt: skip
    return [{"template": r.template, "errors": int(r.errors)} for r in rows]


def service_check_states(conn: Connection, *, services: Sequence[str]) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(service.c.name.label("service"), check_state.c.check_name, check_state.c.status,
               check_state.c.since, check_state.c.detail)
        .join(service, service.c.id == check_state.c.service_id)
        .where(service.c.name.in_(list(services)))
        .order_by(service.c.name, check_state.c.check_name)
    )  # fmt: skip
    return [dict(r._mapping) for r in rows]
