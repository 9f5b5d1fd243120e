"""The knowledge base's reading of the store: tickets resolved in a window, with their notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from postdeploy.domain.kb import ResolvedTicket
from postdeploy.store.schema import ticket

RESOLVED = ("resolved", "closed")  # not cancelled: nothing was resolved


def resolved_tickets(conn: Connection, *, since: datetime, until: datetime) -> list[ResolvedTicket]:
    """Tickets resolved or closed with a resolution time in [since, until), oldest first."""
    c = ticket.c
    query = (
        select(c.title, c.category, c.service, c.resolution, c.created_at, c.resolved_at)
        .where(
            c.status.in_(RESOLVED),
            c.resolved_at.is_not(None),
            c.resolved_at >= since,
            c.resolved_at < until,
        )
        .order_by(c.resolved_at, c.id)
    )
    return [ResolvedTicket(*row) for row in conn.execute(query)]
