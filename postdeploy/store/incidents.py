"""Incidents opened or updated by alert routes: one per alert group, a timeline of events."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from postdeploy.catalog import Escalation
from postdeploy.store.schema import incident, incident_event
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
