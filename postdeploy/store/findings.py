"""Scan findings as alerts: opened when found, refreshed while present, resolved when gone;
the alerting flow routes them like any firing alert."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from postdeploy.store.schema import alert
from postdeploy.store.upsert import upsert


@dataclass(frozen=True)
class FindingAlert:
    fingerprint: str
    name: str  # the alertname
    service: str
    severity: str
    summary: str
    labels: dict[str, str]  # must hold `kind`, used to keep unchecked scopes open


def sync_findings(
    conn: Connection,
    *,
    source: str,
    findings: Sequence[FindingAlert],
    now: datetime,
    unchecked: Collection[tuple[str, str]] = (),
) -> tuple[list[str], list[str]]:
    """(opened, resolved) fingerprints. Firing alerts of `source` not found again are resolved,
    unless their (service, kind) is in `unchecked`: a scan that could not look says nothing."""
    firing = {
        r.fingerprint: r
        for r in conn.execute(
            select(alert.c.fingerprint, alert.c.service, alert.c.labels)
            .where(alert.c.source == source, alert.c.status == "firing")
        )
    }  # fmt: skip
    current = {f.fingerprint: f for f in findings}
    opened = [fp for fp in current if fp not in firing]
    rows = [
        {
            "fingerprint": f.fingerprint, "starts_at": now, "status": "firing", "name": f.name,
            "service": f.service, "severity": f.severity, "summary": f.summary,
            "labels": f.labels, "annotations": {}, "source": source, "updated_at": now,
        }
        for f in (current[fp] for fp in opened)
    ]  # fmt: skip
    upsert(conn, alert, rows, keys=["fingerprint", "starts_at"])
    for fp, f in current.items():
        if fp in firing:
            conn.execute(
                update(alert)
                .where(alert.c.fingerprint == fp, alert.c.status == "firing")
                .values(summary=f.summary, severity=f.severity, updated_at=now)
            )
    keep = set(unchecked)
    resolved = sorted(
        fp
        for fp, r in firing.items()
        if fp not in current and (r.service, (r.labels or {}).get("kind", "")) not in keep
    )
    if resolved:
        conn.execute(
            update(alert)
            .where(alert.c.fingerprint.in_(resolved), alert.c.status == "firing")
            .where(alert.c.source == source)
            .values(status="resolved", ends_at=now, updated_at=now)
        )
    return opened, resolved
