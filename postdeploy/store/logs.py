"""The log review's memory: how far each file was read, known signatures, daily counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, func, select

from postdeploy.store.schema import log_cursor, log_daily, log_signature
from postdeploy.store.upsert import upsert


def cursor(conn: Connection, *, path: str) -> tuple[int | None, int]:
    row = conn.execute(
        select(log_cursor.c.inode, log_cursor.c.offset).where(log_cursor.c.path == path)
    ).first()
    return (None, 0) if row is None else (int(row.inode), int(row.offset))


def save_cursor(conn: Connection, *, path: str, inode: int, offset: int, now: datetime) -> None:
    row = {"path": path, "inode": inode, "offset": offset, "updated_at": now}
    upsert(conn, log_cursor, [row], keys=["path"], update=["inode", "offset", "updated_at"])


def known_signatures(conn: Connection, *, service: str) -> dict[str, str]:
    query = select(log_signature.c.signature_id, log_signature.c.template).where(
        log_signature.c.service == service
    )
    return {str(sid): str(template) for sid, template in conn.execute(query)}


def daily_baseline(conn: Connection, *, service: str, days: Sequence[str]) -> dict[str, float]:
    """Mean count per day over `days` (days without a line count as zero)."""
    query = (
        select(log_daily.c.signature_id, func.sum(log_daily.c.count))
        .where(log_daily.c.service == service, log_daily.c.day.in_(days))
        .group_by(log_daily.c.signature_id)
    )
    return {sid: float(total) / len(days) for sid, total in conn.execute(query)}


def record_counts(
    conn: Connection,
    *,
    service: str,
    day: str,
    counts: Iterable[tuple[str, str, int, int]],  # signature id, template, count, errors
    now: datetime,
) -> None:
    """Add a read's counts to the day's; new signatures are remembered from now on."""
    counts = list(counts)
    existing = {
        sid: (c, e)
        for sid, c, e in conn.execute(
            select(log_daily.c.signature_id, log_daily.c.count, log_daily.c.errors).where(
                log_daily.c.service == service, log_daily.c.day == day
            )
        )
    }
    rows = [
        {
            "service": service,
            "signature_id": sid,
            "day": day,
            "count": n + existing.get(sid, (0, 0))[0],
            "errors": e + existing.get(sid, (0, 0))[1],
        }
        for sid, _, n, e in counts
    ]
    upsert(
        conn, log_daily, rows, keys=["service", "signature_id", "day"], update=["count", "errors"]
    )
    signatures = [
        {
            "service": service,
            "signature_id": sid,
            "template": t,
            "first_seen": now,
            "last_seen": now,
        }
        for sid, t, _, _ in counts
    ]
    upsert(conn, log_signature, signatures, keys=["service", "signature_id"], update=["last_seen"])
