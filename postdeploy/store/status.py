"""What the status page shows, read from the store: check states, daily uptime, incidents."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, func, or_, select

from postdeploy.catalog import Service
from postdeploy.domain.slo import WORKBOOK_RULES, burn_alerts, rule_windows
from postdeploy.domain.status import (
    FLAP_WINDOW_S,
    CheckNow,
    Component,
    IncidentNotice,
    Maintenance,
    StatusPage,
    Update,
    component_state,
)
from postdeploy.domain.uptime import DAY
from postdeploy.store.schema import (
    check_daily,
    check_result,
    check_state,
    incident,
    incident_event,
    service,
)
from postdeploy.store.slo import ServiceCounts, objectives, slo_counts


def check_states(conn: Connection, *, now: datetime) -> dict[str, list[CheckNow]]:
    """Every check's state from check_state, with its ok/failed flips over the last hour."""
    until = now.timestamp()
    previous = func.lag(check_result.c.ok).over(
        partition_by=(check_result.c.service_id, check_result.c.check_name),
        order_by=check_result.c.ts,
    )
    recent = (
        select(
            check_result.c.service_id,
            check_result.c.check_name,
            case((check_result.c.ok != previous, 1), else_=0).label("flip"),
        )
        .where(check_result.c.ts > until - FLAP_WINDOW_S, check_result.c.ts <= until)
        .subquery()
    )
    flips = {
        (r.service_id, r.check_name): int(r.flips)
        for r in conn.execute(
            select(
                recent.c.service_id, recent.c.check_name, func.sum(recent.c.flip).label("flips")
            ).group_by(recent.c.service_id, recent.c.check_name)
        )
    }
    found: dict[str, list[CheckNow]] = defaultdict(list)
    rows = conn.execute(
        select(check_state, service.c.name)
        .join(service, service.c.id == check_state.c.service_id)
        .order_by(service.c.name, check_state.c.check_name)
    )
    for r in rows:
        flipped = flips.get((r.service_id, r.check_name), 0)
        found[r.name].append(CheckNow(r.check_name, r.status, r.since, r.detail, flipped))
    return dict(found)


def daily_uptime(
    conn: Connection, *, first_day: int, now: datetime
) -> dict[str, list[tuple[int, int, int]]]:
    """(day, ok, total) per service over every check, UTC days from `first_day` to now;
    read from the check_daily rollup (checks x days rows, not every stored result)."""
    d = check_daily.c
    rows = conn.execute(
        select(
            service.c.name,
            d.day,
            func.sum(d.ok).label("ok"),
            func.sum(d.total).label("total"),
        )
        .join(service, service.c.id == d.service_id)
        .where(d.day.between(first_day, int(now.timestamp() // DAY)))
        .group_by(service.c.name, d.day)
        .order_by(service.c.name, d.day)
    )
    found: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for r in rows:
        found[r.name].append((int(r.day), int(r.ok), int(r.total)))
    return dict(found)


def incident_notices(
    conn: Connection,
    *,
    now: datetime,
    resolved_within: timedelta = timedelta(days=7),
    kinds: Collection[str] | None = None,
) -> list[IncidentNotice]:
    """Open incidents, then those resolved lately, newest first; updates are their events
    with a message (only `kinds` if given), newest first."""
    rows = conn.execute(
        select(incident)
        .where(
            or_(incident.c.resolved_at.is_(None), incident.c.resolved_at >= now - resolved_within)
        )
        .order_by(incident.c.resolved_at.is_not(None), incident.c.opened_at.desc())
    ).all()
    events = select(incident_event).where(
        incident_event.c.incident_id.in_([r.id for r in rows]), incident_event.c.message != ""
    )
    if kinds is not None:
        events = events.where(incident_event.c.kind.in_(list(kinds)))
    updates: dict[int, list[Update]] = defaultdict(list)
    for e in conn.execute(events.order_by(incident_event.c.ts.desc(), incident_event.c.id.desc())):
        updates[e.incident_id].append(Update(e.ts, e.kind, e.message))
    return [
        IncidentNotice(
            r.key, r.title, r.service, r.severity, r.status, r.opened_at, r.resolved_at,
            tuple(updates[r.id]),
        )
        for r in rows
    ]  # fmt: skip


def slos_paging(
    conn: Connection, *, services: Sequence[Service], now: datetime
) -> dict[str, list[str]]:
    """Per service, the SLOs whose page-severity burn-rate rules fire now; reads 6 hours only."""
    rules = [r for r in WORKBOOK_RULES if r.severity == "page"]
    latency = {s.name: s.slo.latency_ms for s in services if s.slo.latency_ms is not None}
    counts = slo_counts(conn, now=now, windows=rule_windows(rules), latency_ms=latency)
    found = {}
    for svc in services:
        have = counts.get(svc.name, ServiceCounts())
        found[svc.name] = [
            name
            for name, objective in objectives(svc).items()
            if any(a.firing for a in burn_alerts(objective, have.of(name), rules))
        ]
    return found


def load_status(
    conn: Connection,
    *,
    services: Sequence[Service],
    maintenance: Sequence[Maintenance],
    now: datetime,
    days: int = 90,
    update_kinds: Collection[str] | None = None,
) -> StatusPage:
    """The page for the catalog's services, in catalog order; `maintenance` from the catalog."""
    last_day = int(now.timestamp() // DAY)
    first_day = last_day - days + 1
    states = check_states(conn, now=now)
    bars = daily_uptime(conn, first_day=first_day, now=now)
    paging = slos_paging(conn, services=services, now=now)
    incidents = incident_notices(conn, now=now, kinds=update_kinds)
    components = []
    for svc in services:
        checks = states.get(svc.name, [])
        verdict = component_state(
            checks,
            in_maintenance=any(m.active(now) and m.covers(svc.name) for m in maintenance),
            slo_burning=paging[svc.name],
            open_incidents=sum(1 for i in incidents if i.open and i.service == svc.name),
        )
        measured = any(c.status in ("up", "down") for c in checks)
        components.append(
            Component(svc.name, svc.description, verdict, measured, tuple(bars.get(svc.name, ())))
        )
    shown = sorted((m for m in maintenance if m.end > now), key=lambda m: m.start)
    return StatusPage(now, tuple(components), tuple(incidents), tuple(shown), first_day, last_day)
