"""SLA clocks of open incidents: response runs until acknowledged, resolution until resolved.
Each threshold crossed escalates the incident one level, once, recorded as an event."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from postdeploy.domain.sla import Clock, Sla, Targets, describe, escalate
from postdeploy.store.schema import incident, incident_event

SLA_EVENT = "sla_escalation"


def incident_sla_sweep(
    conn: Connection, *, now: datetime, targets: Mapping[str, Targets]
) -> list[dict[str, Any]]:
    """Escalations made at `now` (the same sweep again makes none)."""
    open_rows = list(conn.execute(select(incident).where(incident.c.resolved_at.is_(None))))
    if not open_rows:
        return []
    crossed: dict[int, int] = {}
    for iid, data in conn.execute(
        select(incident_event.c.incident_id, incident_event.c.data).where(
            incident_event.c.kind == SLA_EVENT,
            incident_event.c.incident_id.in_([r.id for r in open_rows]),
        )
    ):
        crossed[iid] = crossed.get(iid, 0) | int((data or {}).get("crossed", 0))
    out = []
    for row in open_rows:
        target = targets.get(row.severity)
        if target is None or row.opened_at > now:
            continue
        responded = (
            row.acknowledged_at if row.acknowledged_at and row.acknowledged_at <= now else None
        )
        sla = Sla(
            Clock(target.response, (responded or now) - row.opened_at, responded is None),
            Clock(target.resolution, now - row.opened_at, True),
        )
        step = escalate(row.level, crossed.get(row.id, 0), sla)
        if step is None:
            continue
        reasons = describe(step.new)
        if step.to_level != row.level:
            conn.execute(
                update(incident).where(incident.c.id == row.id).values(level=step.to_level)
            )
        conn.execute(
            incident_event.insert().values(
                incident_id=row.id,
                ts=now,
                kind=SLA_EVENT,
                actor="sla-watch",
                message=f"SLA {', '.join(reasons)}: {step.from_level} -> {step.to_level}",
                data={"crossed": step.crossed, "new": reasons},
            )
        )
        out.append(
            {
                "incident": row.id,
                "service": row.service,
                "severity": row.severity,
                "title": row.title,
                "from_level": step.from_level,
                "to_level": step.to_level,
                "crossed": reasons,
            }
        )
    return out
