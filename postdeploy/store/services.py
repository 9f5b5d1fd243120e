"""Service rows, kept equal to the catalog."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from postdeploy.catalog import Service
from postdeploy.store.schema import service
from postdeploy.store.upsert import upsert


def sync_services(conn: Connection, *, services: Iterable[Service]) -> dict[str, int]:
    """Upsert the catalog's services; returns name -> id. The active url is kept as it is."""
    now = datetime.now(UTC)
    rows = [
        {
            "name": s.name,
            "description": s.description,
            "owner": s.owner,
            "tier": s.tier,
            "url": s.url,
            "active_url": s.url,
            "standby_url": s.standby_url,
            "updated_at": now,
        }
        for s in services
    ]
    upsert(
        conn,
        service,
        rows,
        keys=["name"],
        update=["description", "owner", "tier", "url", "standby_url", "updated_at"],
    )
    return service_ids(conn)


def service_ids(conn: Connection) -> dict[str, int]:
    return {name: sid for sid, name in conn.execute(select(service.c.id, service.c.name))}
