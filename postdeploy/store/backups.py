"""Backups of the store: recorded when taken, marked good or bad by a verified restore.

Marking touches one backup only, so a failed verify never demotes the previous good one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select, update

from postdeploy.store.schema import backup
from postdeploy.store.upsert import upsert

Status = Literal["unverified", "good", "bad", "pruned"]


def record_backup(
    conn: Connection,
    *,
    location: str,
    created_at: datetime,
    size_bytes: int,
    sha256: str,
    kind: str,
) -> int:
    """The backup's id; recording the same location again changes nothing."""
    row = {
        "location": location,
        "created_at": created_at,
        "size_bytes": size_bytes,
        "sha256": sha256,
        "kind": kind,
        "status": "unverified",
    }
    upsert(conn, backup, [row], keys=["location"])
    found = conn.execute(select(backup.c.id).where(backup.c.location == location)).scalar_one()
    return int(found)


def mark(conn: Connection, *, location: str, status: Status, at: datetime) -> None:
    result = conn.execute(
        update(backup).where(backup.c.location == location).values(status=status, verified_at=at)
    )
    if result.rowcount != 1:
        raise KeyError(f"no backup recorded at {location}")


def mark_pruned(conn: Connection, *, locations: Sequence[str]) -> None:
    if locations:
        conn.execute(update(backup).where(backup.c.location.in_(locations)).values(status="pruned"))


def get_backup(conn: Connection, *, location: str) -> dict[str, Any] | None:
    row = conn.execute(select(backup).where(backup.c.location == location)).first()
    return dict(row._mapping) if row else None


def newest(conn: Connection, *, status: Status | None = None) -> dict[str, Any] | None:
    """The newest backup, or the newest with that status (`good`: what a restore should use)."""
    query = select(backup).order_by(backup.c.created_at.desc(), backup.c.id.desc()).limit(1)
    if status is not None:
        query = query.where(backup.c.status == status)
    row = conn.execute(query).first()
    return dict(row._mapping) if row else None


def list_backups(conn: Connection) -> list[dict[str, Any]]:
    query = select(backup).order_by(backup.c.created_at.desc(), backup.c.id.desc())
    return [dict(r._mapping) for r in conn.execute(query)]
