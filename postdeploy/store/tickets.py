"""Tickets in the store: the idempotent bulk import (natural key: source + external id) and
the SLA sweep, which escalates a ticket one level per SLA threshold it crosses."""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice, repeat
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, DateTime, and_, bindparam, func, or_, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite

from postdeploy.domain.sla import (
    DEFAULT_TARGETS,
    NEAR_BREACH,
    RESOLUTION_BREACHED,
    RESPONSE_BREACHED,
    BusinessHours,
    Targets,
    describe,
    escalate,
    evaluate,
)
from postdeploy.domain.tickets import STATUS_PHASES, StatusChange, Ticket
from postdeploy.store.schema import ticket, ticket_event

CHUNK = 500  # rows per executemany: the chunk stays in the CPU cache (10,000: 1.5x slower)
FIELDS = ("service", "title", "category", "priority", "status", "created_at",
          "first_response_at", "resolved_at", "updated_at", "assignee", "resolution")  # fmt: skip
# insert columns in table order, as the compiled statement lists them
COLUMNS = ["source", "external_id", "service", "title", "category", "priority", "status", "level",
           "created_at", "first_response_at", "resolved_at", "updated_at", "assignee",
           "sla_crossed", "resolution"]  # fmt: skip
DONE = [s for s, p in STATUS_PHASES.items() if p == "done"]
_key = itemgetter(0, 1)  # (source, external_id) of a Ticket
_EPOCH, _NAIVE = datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 1)


@dataclass(frozen=True)
class ImportCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0  # already stored as they are, or older than the stored version
    events: int = 0


def _insert(conn: Connection) -> Any:
    return sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert


def _upsert_sql(conn: Connection) -> str:
    """Insert, or update a stored ticket when the row differs and is not older than it."""
    stmt = _insert(conn)(ticket)
    new = stmt.excluded
    newer = or_(
        ticket.c.updated_at.is_(None),
        new.updated_at.is_(None),
        new.updated_at >= ticket.c.updated_at,
    )
    changed = or_(*(ticket.c[c].is_distinct_from(new[c]) for c in FIELDS))
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "external_id"],
        set_={c: new[c] for c in FIELDS},
        where=and_(newer, changed),
    )
    compiled = stmt.compile(dialect=conn.dialect, column_keys=COLUMNS, for_executemany=True)
    if compiled.positiontup not in (None, COLUMNS):  # the rows below are built in this order
        raise RuntimeError(f"ticket columns moved: {compiled.positiontup}")
    return str(compiled.string)


def _times(values: tuple[datetime | None, ...], text: bool) -> list[Any]:
    """Times as the driver takes them for UTCDateTime: naive UTC, and on SQLite the very text
    SQLAlchemy writes. Here, in a tight loop, rather than by SQLAlchemy per bound value; naive
    UTC by arithmetic is twice as fast as astimezone + replace (a naive time raises)."""
    if text:
        return [
            v if v is None else (v - _EPOCH + _NAIVE).isoformat(" ", "microseconds") for v in values
        ]
    return [v if v is None else v - _EPOCH + _NAIVE for v in values]


@contextmanager
def _no_gc() -> Iterator[None]:
    """A bulk import allocates millions of short-lived rows that make no cycles; the cyclic GC
    would rescan the whole heap every few thousand of them (1.7x slower), so it waits."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_no_gc()
def upsert_tickets(
    conn: Connection, tickets: Iterable[Ticket], *, chunk_size: int = CHUNK
) -> ImportCounts:
    """Store tickets and their status changes in chunks; importing again changes nothing.
    Levels and SLA state belong to the store and are never overwritten by an import."""
    sql, sqlite = _upsert_sql(conn), conn.dialect.name == "sqlite"
    before: dict[str, int] = {}
    written = changed = events = 0
    it = iter(tickets)
    while chunk := list(islice(it, chunk_size)):
        batch = list(dict(zip(map(_key, chunk), chunk, strict=True)).values())  # last one wins
        for new_source in {x.source for x in batch} - before.keys():
            before[new_source] = _count(conn, new_source)
        # column by column: C-level maps instead of a Python call per row
        (source, external_id, priority, status, created_at, title, service, category, assignee,
         first_response_at, resolved_at, updated_at, resolution,
         _) = zip(*batch, strict=True)  # fmt: skip
        rows: list[Any] = list(
            zip(source, external_id, service, title, category, priority, status, repeat("L1"),
                _times(created_at, sqlite), _times(first_response_at, sqlite),
                _times(resolved_at, sqlite), _times(updated_at, sqlite), assignee, repeat(0),
                resolution)
        )  # fmt: skip
        if not sqlite:  # psycopg takes named parameters
            rows = [dict(zip(COLUMNS, r, strict=True)) for r in rows]
        changed += conn.exec_driver_sql(sql, rows).rowcount
        written += len(rows)
        events += _store_changes(conn, [x for x in batch if x.changes])
    inserted = sum(_count(conn, s) - n for s, n in before.items())
    return ImportCounts(inserted, changed - inserted, written - changed, events)


def _count(conn: Connection, source: str) -> int:
    query = select(func.count()).select_from(ticket).where(ticket.c.source == source)
    return int(conn.execute(query).scalar_one())


def _store_changes(conn: Connection, tickets: list[Ticket]) -> int:
    if not tickets:
        return 0
    ids: dict[tuple[str, str], int] = {}
    for source in {x.source for x in tickets}:
        keys = [x.external_id for x in tickets if x.source == source]
        query = select(ticket.c.external_id, ticket.c.id).where(
            ticket.c.source == source, ticket.c.external_id.in_(bindparam("keys", expanding=True))
        )
        ids |= {(source, k): i for k, i in conn.execute(query, {"keys": keys})}
    changes = [(ids[(x.source, x.external_id)], c) for x in tickets for c in x.changes]
    times = _times(tuple(c.ts for _, c in changes), conn.dialect.name == "sqlite")
    rows = [
        {"ticket_id": i, "ts": ts, "kind": "status", "from_status": c.from_status,
         "to_status": c.to_status, "actor": c.actor, "data": "{}"}
        for (i, c), ts in zip(changes, times, strict=True)
    ]  # fmt: skip
    return _insert_events(conn, rows)


def _insert_events(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Events not stored yet (natural key: ticket, time, kind); rows hold driver values."""
    if not rows:
        return 0
    stmt = _insert(conn)(ticket_event).on_conflict_do_nothing(
        index_elements=["ticket_id", "ts", "kind"]
    )
    return _executemany(conn, stmt, rows)


def _executemany(conn: Connection, stmt: Any, rows: list[dict[str, Any]]) -> int:
    """A Core statement over many rows without SQLAlchemy's per-value bind processing (3x
    faster in bulk): the rows already hold what the driver takes (see _times)."""
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(rows[0]), for_executemany=True)
    order = compiled.positiontup
    params: list[Any] = [tuple(r[k] for k in order) for r in rows] if order else rows
    return int(conn.exec_driver_sql(str(compiled.string), params).rowcount)


class TicketEscalation(NamedTuple):
    ticket_id: int
    source: str
    external_id: str
    priority: str
    from_level: str
    to_level: str  # the same as from_level at the top level
    crossed: tuple[str, ...]  # thresholds newly crossed, e.g. ('response near-breach',)


@dataclass(frozen=True)
class SweepResult:
    open: int
    near_breach: int  # open tickets with a running clock past the near-breach share
    breached: int  # open tickets with a running clock past its target
    escalations: list[TicketEscalation]


@_no_gc()
def sla_sweep(
    conn: Connection,
    *,
    now: datetime,
    targets: Mapping[Any, Targets] = DEFAULT_TARGETS,
    calendar: BusinessHours | None = None,
    near: float = NEAR_BREACH,
) -> SweepResult:
    """Evaluate every open ticket's SLA clocks at `now`; escalate a ticket one level when it
    crosses thresholds it had not, and record that as events. Running it again changes nothing."""
    by_priority = {str(k): v for k, v in targets.items()}
    changes = _open_changes(conn)
    c = ticket.c
    rows = conn.execute(
        select(c.id, c.source, c.external_id, c.priority, c.status, c.level, c.sla_crossed,
               _naive(c.created_at), _naive(c.first_response_at), _naive(c.updated_at))
        .where(c.status.not_in(DONE))
    ).all()  # fmt: skip
    found: list[TicketEscalation] = []
    crossed_so_far: dict[int, int] = {}
    near_count = breach_count = 0
    for tid, source, key, priority, status, level, already, created, responded, updated in rows:
        target = by_priority.get(priority)
        if target is None:
            continue
        sla = evaluate(
            created_at=_aware(created), status=status, target=target, now=now,
            changes=changes.get(tid, ()), first_response_at=responded and _aware(responded),
            updated_at=updated and _aware(updated), calendar=calendar,
        )  # fmt: skip
        crossed = sla.crossed(near)
        near_count += crossed != 0
        breach_count += crossed & (RESPONSE_BREACHED | RESOLUTION_BREACHED) != 0
        decision = escalate(level, already, sla, near=near)
        if decision:
            found.append(
                TicketEscalation(tid, source, key, priority, decision.from_level,
                                 decision.to_level, tuple(describe(decision.new)))
            )  # fmt: skip
            crossed_so_far[tid] = decision.crossed
    _record(conn, found, crossed_so_far, now)
    return SweepResult(len(rows), near_count, breach_count, found)


def _naive(column: Any) -> Any:
    # read as naive UTC and made aware by arithmetic: UTCDateTime's .replace() costs 4x more
    return type_coerce(column, DateTime())


def _aware(t: datetime) -> datetime:
    return _EPOCH + (t - _NAIVE)


def _open_changes(conn: Connection) -> dict[int, list[StatusChange]]:
    """Status changes of every open ticket, by ticket id."""
    e = ticket_event.c
    query = (
        select(e.ticket_id, _naive(e.ts), e.to_status, e.from_status)
        .join(ticket, ticket.c.id == e.ticket_id)
        .where(ticket.c.status.not_in(DONE), e.kind == "status")
    )
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    for ticket_id, ts, to_status, from_status in conn.execute(query).all():
        changes[ticket_id].append(StatusChange(_aware(ts), to_status, from_status))
    return changes


def _record(
    conn: Connection, found: list[TicketEscalation], crossed: dict[int, int], now: datetime
) -> None:
    """New level and thresholds per ticket; an event per threshold crossed (kind e.g.
    sla_response_near_breach) and one per level raised (kind escalated)."""
    if not found:
        return
    sqlite = conn.dialect.name == "sqlite"
    (at,) = _times((now,), sqlite)
    _executemany(
        conn,
        update(ticket)
        .where(ticket.c.id == bindparam("ticket_id"))
        .values(level=bindparam("to_level"), sla_crossed=bindparam("crossed"),
                escalated_at=bindparam("at")),
        [{"ticket_id": e.ticket_id, "to_level": e.to_level, "crossed": crossed[e.ticket_id],
          "at": at} for e in found],
    )  # fmt: skip
    events = [
        (e.ticket_id, "sla_" + reason.replace(" ", "_").replace("-", "_"), {"priority": e.priority})
        for e in found
        for reason in e.crossed
    ] + [
        (e.ticket_id, "escalated",
         {"from_level": e.from_level, "to_level": e.to_level, "reason": list(e.crossed)})
        for e in found
        if e.to_level != e.from_level
    ]  # fmt: skip
    _insert_events(
        conn,
        [{"ticket_id": i, "ts": at, "kind": kind, "from_status": None, "to_status": None,
          "actor": "sla-watch", "data": json.dumps(data)} for i, kind, data in events],
    )  # fmt: skip
