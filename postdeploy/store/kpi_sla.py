"""SLA compliance of the tickets resolved in a period, per service and priority. The database
decides every ticket whose wall-clock times meet the targets (the SLA clock never runs longer
than the wall clock) and every ticket without a status history (its clock is the wall clock);
only the tickets that miss on the wall clock and have a status history (they may have waited,
which pauses the clock) are replayed in Python with postdeploy.domain.sla.evaluate."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from sqlalchemy import Connection, Select, and_, case, exists, select

from postdeploy.domain.periods import Period
from postdeploy.domain.sla import Targets, evaluate
from postdeploy.domain.tickets import PRIORITIES, StatusChange
from postdeploy.store.kpi_sql import ALL, rolled_up, seconds_between, summed
from postdeploy.store.schema import ticket, ticket_event

BY_PRIORITY = [{"service", "priority"}, {"service"}, {"priority"}, set()]


def sla_met(
    conn: Connection, period: Period, targets: Mapping[Any, Targets]
) -> dict[tuple[str, ...], tuple[int, int]]:
    """(met, total) per (service or ALL, priority or ALL) over the tickets resolved in the
    period: met when neither the response nor the resolution clock ended past its target."""
    d = conn.dialect.name
    c = ticket.c
    responded = case(
        (c.first_response_at < c.resolved_at, c.first_response_at), else_=c.resolved_at
    )
    response = seconds_between(d, responded, c.created_at)
    resolution = seconds_between(d, c.resolved_at, c.created_at)

    def target(kind: str) -> Any:
        return case(
            {p: getattr(targets[p], kind).total_seconds() for p in PRIORITIES if p in targets},
            value=c.priority,
            else_=-1.0,
        )

    on_wall = and_(response <= target("response"), resolution <= target("resolution"))
    resolved = select(ticket).where(c.resolved_at >= period.start, c.resolved_at < period.end)
    counts = summed(
        conn,
        rolled_up(
            resolved,
            [("service", c.service), ("priority", c.priority)],
            case((on_wall, 1), else_=0),
            BY_PRIORITY,
        ),
        2,
    )
    result = {key: (met, total) for key, (total, met) in counts.items()}
    for svc, priority in _met_after_pauses(conn, resolved, on_wall, targets):
        for key in {(svc or ALL, priority), (svc or ALL, ALL), (ALL, priority), (ALL, ALL)}:
            if key[0] == ALL or svc:
                met, total = result[key]
                result[key] = (met + 1, total)
    return result


def _met_after_pauses(
    conn: Connection, resolved: Select[Any], on_wall: Any, targets: Mapping[Any, Targets]
) -> list[tuple[str | None, str]]:
    """(service, priority) of each ticket that misses on the wall clock but has a status
    history, and meets its targets on the SLA clock replayed over that history."""
    waited = exists().where(
        ticket_event.c.ticket_id == ticket.c.id, ticket_event.c.to_status.is_not(None)
    )
    rows = conn.execute(resolved.where(~on_wall, waited))
    tickets = {r.id: r for r in rows if r.priority in targets}
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    ids = list(tickets)
    for start in range(0, len(ids), 500):
        for e in conn.execute(
            select(ticket_event).where(
                ticket_event.c.ticket_id.in_(ids[start : start + 500]),
                ticket_event.c.to_status.is_not(None),
            )
        ):
            changes[e.ticket_id].append(StatusChange(e.ts, e.to_status, e.from_status, e.actor))
    met = []
    for tid, t in tickets.items():
        sla = evaluate(
            created_at=t.created_at,
            status=t.status,
            target=targets[t.priority],
            now=t.resolved_at.astimezone(UTC),
            changes=changes[tid],
            first_response_at=min(t.first_response_at or t.resolved_at, t.resolved_at),
            updated_at=t.resolved_at,
        )
        if sla.response.state() != "breached" and sla.resolution.state() != "breached":
            met.append((t.service, t.priority))
    return met
