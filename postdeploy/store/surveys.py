"""Survey responses in the store: the idempotent import (natural key: source + external id)
and the responses of a period, optionally of one service or segment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, bindparam, select

from postdeploy.domain.surveys import Response
from postdeploy.store.schema import survey_response
from postdeploy.store.upsert import upsert

CHUNK = 500
FIELDS = ("submitted_at", "nps", "csat", "ces", "service", "segment", "comment")
DEMO_PREFIX = "demo"  # `postdeploy demo` imports its answers under sources named demo*


@dataclass(frozen=True)
class SurveyImportCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0  # stored as they are, or older than the stored answer


def upsert_responses(
    conn: Connection, responses: Iterable[Response], *, chunk_size: int = CHUNK
) -> SurveyImportCounts:
    """Insert new responses; update a stored one when the answer differs and is not older
    (submitted_at) than it; importing the same export again changes nothing."""
    inserted = updated = unchanged = 0
    it = iter(responses)
    while chunk := list(islice(it, chunk_size)):
        batch = {(r.source, r.external_id): r for r in chunk}  # last one wins
        stored = _stored(conn, list(batch))
        rows = []
        for key, new in batch.items():
            old = stored.get(key)
            values = {f: getattr(new, f) for f in FIELDS}
            if old is None:
                inserted += 1
            elif new.submitted_at < old["submitted_at"] or values == old:
                unchanged += 1
                continue
            else:
                updated += 1
            rows.append({"source": new.source, "external_id": new.external_id, **values})
        upsert(conn, survey_response, rows, keys=["source", "external_id"], update=FIELDS)
    return SurveyImportCounts(inserted, updated, unchanged)


def _stored(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    c = survey_response.c
    found: dict[tuple[str, str], Any] = {}
    for source in {s for s, _ in keys}:
        ids = [k for s, k in keys if s == source]
        query = select(c.external_id, *(c[f] for f in FIELDS)).where(
            c.source == source, c.external_id.in_(bindparam("ids", expanding=True))
        )
        for row in conn.execute(query, {"ids": ids}).mappings():
            found[(source, row["external_id"])] = {f: row[f] for f in FIELDS}
    return found


def responses_between(
    conn: Connection,
    *,
    start: datetime,
    end: datetime,
    service: str | None = None,
    segment: str | None = None,
) -> list[Response]:
    """Responses submitted in [start, end), oldest first."""
    c = survey_response.c
    query = select(
        c.source, c.external_id, c.submitted_at, c.nps, c.csat, c.ces, c.service, c.segment,
        c.comment,
    ).where(c.submitted_at >= start, c.submitted_at < end)  # fmt: skip
    if service is not None:
        query = query.where(c.service == service)
    if segment is not None:
        query = query.where(c.segment == segment)
    rows = conn.execute(query.order_by(c.submitted_at, c.id)).all()
    return [Response(*row) for row in rows]


def has_demo_answers(conn: Connection, *, start: datetime, end: datetime) -> bool:
    c = survey_response.c
    query = select(c.id).where(
        c.submitted_at >= start, c.submitted_at < end, c.source.startswith(DEMO_PREFIX)
    )
    return conn.execute(query.limit(1)).first() is not None
