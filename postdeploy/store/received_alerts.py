"""Alerts received from Alertmanager: stored once per (fingerprint, startsAt), updated after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, tuple_

from postdeploy.domain.alertmanager import AmAlert
from postdeploy.store.schema import alert
from postdeploy.store.upsert import upsert


def store_received(conn: Connection, *, alerts: Sequence[AmAlert]) -> tuple[int, int]:
    """Upsert alerts; returns (new, already known). HA duplicates in one payload count once."""
    unique = {(a.fingerprint, a.starts_at): a for a in alerts}
    keys = list(unique)
    known: set[tuple[str, datetime]] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found = conn.execute(
            select(alert.c.fingerprint, alert.c.starts_at).where(
                tuple_(alert.c.fingerprint, alert.c.starts_at).in_(chunk)
            )
        )
        known.update((f, s) for f, s in found)
    now = datetime.now(UTC)
    rows = [
        {
            "fingerprint": a.fingerprint,
            "starts_at": a.starts_at,
            "ends_at": a.ends_at if a.status == "resolved" else None,
            "status": a.status,
            # the columns' lengths (PostgreSQL enforces them); the labels keep the full values
            "name": a.name[:200],
            "service": (a.labels.get("service") or a.labels.get("job") or "")[:100] or None,
            "severity": a.severity[:20],
            "summary": a.annotations.get("summary", a.annotations.get("description", "")),
            "labels": a.labels,
            "annotations": a.annotations,
            "source": "alertmanager",
            "updated_at": now,
        }
        for a in unique.values()
    ]
    upsert(
        conn,
        alert,
        rows,
        keys=["fingerprint", "starts_at"],
        update=["ends_at", "status", "annotations", "summary", "updated_at"],
    )
    return len(unique) - len(known), len(known)


def count_alerts(conn: Connection, *, source: str | None = None) -> int:
    query = select(func.count()).select_from(alert)
    if source:
        query = query.where(alert.c.source == source)
    return int(conn.execute(query).scalar_one())
