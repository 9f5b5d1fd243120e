"""Help-desk tickets as values: priorities, statuses and how an export's event rows fold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, NamedTuple

Phase = Literal["open", "waiting", "done"]

PRIORITIES = ("critical", "high", "medium", "low")
STATUS_PHASES: dict[str, Phase] = {
    "new": "open",
    "open": "open",
    "in_progress": "open",
    "waiting": "waiting",  # on the customer or a third party: the SLA clock pauses
    "resolved": "done",
    "closed": "done",
    "cancelled": "done",
}
STATUSES = tuple(STATUS_PHASES)
INITIAL_STATUS = "new"
LEVELS = ("L1", "L2", "L3", "L4")


def phase(status: str) -> Phase:
    return STATUS_PHASES.get(status, "open")


@dataclass(frozen=True, slots=True)
class StatusChange:
    ts: datetime
    to_status: str
    from_status: str | None = None
    actor: str | None = None


class Ticket(NamedTuple):
    """One ticket, natural key (source, external_id); times are timezone-aware. A named tuple,
    not a frozen dataclass: a bulk import makes a million of them, at a quarter of the cost."""

    source: str
    external_id: str
    priority: str
    status: str
    created_at: datetime
    title: str = ""
    service: str | None = None
    category: str | None = None
    assignee: str | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    updated_at: datetime | None = None
    resolution: str | None = None  # how it was resolved (close notes), free text
    changes: tuple[StatusChange, ...] = ()


class EventRow(NamedTuple):
    """One row of an export that logs a row per change: the ticket as it was at `at`."""

    ticket: Ticket
    at: datetime
    actor: str | None = None


def fold(rows: Sequence[EventRow]) -> Ticket:
    """One ticket from its event rows: the latest row's fields, the earliest creation time,
    and one status change per row whose status differs from the row before it."""
    ordered = sorted(rows, key=lambda r: r.at)
    latest = ordered[-1].ticket
    changes: list[StatusChange] = []
    previous: str | None = None
    for row in ordered:
        status = row.ticket.status
        if status == previous:
            continue
        if changes and changes[-1].ts == row.at:
            # changes in the same instant: keep one, from the first status to the last
            merged = replace(changes[-1], to_status=status, actor=row.actor)
            changes[-1:] = [merged] if merged.from_status != status else []
        else:
            changes.append(StatusChange(row.at, status, previous, row.actor))
        previous = status
    resolved_at = latest.resolved_at
    if resolved_at is None and phase(latest.status) == "done":
        resolved_at = next(c.ts for c in reversed(changes) if phase(c.to_status) == "done")
    return latest._replace(
        created_at=min(r.ticket.created_at for r in ordered),
        first_response_at=min(
            (r.ticket.first_response_at for r in ordered if r.ticket.first_response_at),
            default=None,
        ),
        resolved_at=resolved_at,
        updated_at=latest.updated_at or ordered[-1].at,
        changes=tuple(changes),
    )
