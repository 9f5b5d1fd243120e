"""Log review task: read what each log file gained, mine signatures, compare with the past."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection

from postdeploy.adapters.logs import Chunk, LogInputError, expand, parser_for, read_new
from postdeploy.catalog import LogSource
from postdeploy.domain.logreview import Line, review, signatures
from postdeploy.reporting.logreview import ServiceLogs
from postdeploy.store.logs import (
    cursor,
    daily_baseline,
    known_signatures,
    record_counts,
    save_cursor,
)
from postdeploy.store.session import in_store


def _read(conn: Connection, sources: Sequence[LogSource]) -> tuple[list[Chunk], list[str]]:
    chunks, problems = [], []
    for src in sources:
        try:
            parse = parser_for(src.pattern, src.format, src.json_fields, src.json_lines)
            paths = expand([src.path])
        except LogInputError as exc:
            problems.append(str(exc))
            continue
        for path in paths:
            inode, offset = cursor(conn, path=str(Path(path).resolve()))
            try:
                chunks.append(read_new(Path(path), inode, offset, parse))
            except OSError as exc:
                problems.append(f"{path}: {exc.strerror or exc}")
    return chunks, problems


@task(name="review-logs", cache_policy=NO_CACHE, task_run_name="review logs of {service}")
def review_logs(url: str, service: str, sources: Sequence[LogSource], now: datetime) -> ServiceLogs:
    """One transaction: the counts and the file cursors move together, so a rerun never
    counts a line twice and a failed run loses none."""
    today = now.astimezone(UTC).date()
    previous = [(today - timedelta(days=d)).isoformat() for d in range(1, 8)]

    def work(conn: Connection) -> ServiceLogs:
        chunks, problems = _read(conn, sources)
        lines = [Line(r.message, r.level, r.message, r.parsed) for c in chunks for r in c.records]
        found = signatures(lines)
        known = known_signatures(conn, service=service)
        result = review(found, known, daily_baseline(conn, service=service, days=previous))
        counts = [
            (
                result.canonical[s.id],
                known.get(result.canonical[s.id], s.template),
                s.count,
                s.errors,
            )
            for s in found
        ]
        record_counts(conn, service=service, day=today.isoformat(), counts=counts, now=now)
        for c in chunks:
            save_cursor(
                conn, path=str(Path(c.path).resolve()), inode=c.inode, offset=c.offset, now=now
            )
        unparsed = sum(1 for ln in lines if not ln.parsed)
        return ServiceLogs(service, result, len(lines), len(chunks), len(found), unparsed, problems)

    return in_store(url, work)
