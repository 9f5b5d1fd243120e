"""The public status page: reports/status/index.html (no scripts, loads nothing), status.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from postdeploy.catalog import Catalog
from postdeploy.domain.status import (
    HEADLINES,
    LABELS,
    Component,
    IncidentNotice,
    Maintenance,
    State,
    StatusPage,
    maintenance_at,
)
from postdeploy.domain.uptime import DAY, bar_level, format_percent, uptime_percent
from postdeploy.reporting.files import write_atomic
from postdeploy.reporting.html import render
from postdeploy.store.status import load_status
from postdeploy.store.uptime import has_demo_data


@dataclass(frozen=True)
class StatusFiles:
    html: Path
    json: Path
    state: State
    components: dict[str, State]


def _when(value: datetime) -> str:
    value = value.astimezone(UTC)
    return f"{value:%b} {value.day}, {value:%H:%M} UTC"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _date(day: int) -> str:
    return datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%d")


def _uptime(c: Component) -> float | None:
    return uptime_percent(sum(ok for _, ok, _ in c.days), sum(t for _, _, t in c.days))


def _component(c: Component, page: StatusPage) -> dict[str, Any]:
    by_day = {d: (ok, total) for d, ok, total in c.days}
    days = []
    for d in range(page.first_day, page.last_day + 1):
        ok, total = by_day.get(d, (0, 0))
        pct = uptime_percent(ok, total)
        days.append(
            {
                "date": _date(d),
                "ok": ok,
                "total": total,
                "uptime": None if pct is None else round(pct, 3),
                "level": bar_level(ok, total),
            }
        )
    uptime, state = _uptime(c), c.verdict.state
    return {
        "name": c.name,
        "description": c.description,
        "state": state,
        "label": LABELS[state] if c.measured or state != "operational" else "No data yet",
        "reasons": list(c.verdict.reasons),
        "measured": c.measured,
        "uptime": None if uptime is None else round(uptime, 3),
        "uptime_text": format_percent(uptime, 2),
        "days": days,
    }


def _incident(i: IncidentNotice) -> dict[str, Any]:
    return {
        "key": i.key,
        "title": i.title,
        "service": i.service,
        "severity": i.severity,
        "status": i.status,
        "open": i.open,
        "opened_at": _iso(i.opened_at),
        "resolved_at": _iso(i.resolved_at),
        "updates": [{"ts": _iso(u.ts), "kind": u.kind, "message": u.message} for u in i.updates],
    }


def _maintenance(m: Maintenance, now: datetime) -> dict[str, Any]:
    return {
        "name": m.name,
        "services": list(m.services),
        "start": _iso(m.start),
        "end": _iso(m.end),
        "active": m.active(now),
        "recurs": m.recurs or None,
    }


def status_facts(page: StatusPage, *, demo: bool = False) -> dict[str, Any]:
    """What status.json holds; the HTML page shows the same facts."""
    return {
        "version": 1,
        "generated_at": _iso(page.generated_at),
        "demo": demo,
        "state": page.state,
        "headline": HEADLINES[page.state],
        "days": page.last_day - page.first_day + 1,
        "components": [_component(c, page) for c in page.components],
        "incidents": [_incident(i) for i in page.incidents],
        "maintenance": [_maintenance(m, page.generated_at) for m in page.maintenance],
    }


def render_status(facts: dict[str, Any], title: str = "System status") -> str:
    return render(
        "status.html",
        title=title,
        subtitle=f"Updated {_when(datetime.fromisoformat(facts['generated_at']))}",
        demo=facts["demo"],
        facts=facts,
        labels=LABELS,
        when=lambda iso: _when(datetime.fromisoformat(iso)),
    )


def maintenance_windows(catalog: Catalog, now: datetime) -> list[Maintenance]:
    """Each catalog window's occurrence in progress at `now`, or its next one."""
    tz = ZoneInfo(catalog.timezone)
    return [
        maintenance_at(w.name, w.services, w.start, w.end, now=now, tz=tz)
        for w in catalog.maintenance_windows
    ]


# Only what was written for users reaches the public page: not assessments, approvals,
# escalations or failed actions, which stay on the incident's internal timeline.
PUBLIC_UPDATES = (
    "communication",
    "update",
    "investigating",
    "identified",
    "monitoring",
    "resolved",
)


def write_status_page(
    conn: Connection,
    catalog: Catalog,
    out_dir: Path,
    now: datetime | None = None,
    *,
    title: str = "System status",
) -> StatusFiles:
    """Rewrite out_dir/index.html and out_dir/status.json from the store, atomically."""
    now = now or datetime.now(UTC)
    page = load_status(
        conn,
        services=catalog.services,
        maintenance=maintenance_windows(catalog, now),
        now=now,
        update_kinds=PUBLIC_UPDATES,
    )
    demo = has_demo_data(conn, since=page.first_day * DAY, until=now.timestamp())
    facts = status_facts(page, demo=demo)
    html = write_atomic(out_dir / "index.html", render_status(facts, title))
    data = write_atomic(out_dir / "status.json", json.dumps(facts, indent=2) + "\n")
    states = {c.name: c.verdict.state for c in page.components}
    return StatusFiles(html, data, page.state, states)
