"""Tickets from help-desk exports (CSV, JSON, JSON lines) and paginated REST APIs, through a
mapping; rows that cannot be read go to a quarantine file with the reason."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import httpx

from postdeploy.adapters.importers.exports import (
    Quarantine,
    cell,
    open_rows,
    records_at,
    require_columns,
)
from postdeploy.adapters.importers.mapping import Column, TicketMapping, timestamp_parser, zone
from postdeploy.domain.tickets import PRIORITIES, STATUSES, EventRow, Ticket, fold

CHUNK = 500  # rows per chunk: small enough for the CPU cache (5,000 ran 1.5x slower)


class _Bad:
    def __repr__(self) -> str:
        return "BAD"


BAD: Any = _Bad()  # what a rule makes of a cell it cannot read
# A column's rule converts a whole chunk's cells at once (tight C-level maps, not a Python
# call per cell and field); it says whether any cell came out BAD and why one would.
Rule = Callable[[list[str]], tuple[list[Any], bool]]


def _text(spec: Column, empty: Any = None) -> Rule:
    """Stripped cells through the value map; empty cells become the default, or `empty`
    (BAD for a required field)."""
    values, empty = spec.values, spec.default or empty

    def rule(cells: list[str]) -> tuple[list[Any], bool]:
        col = list(map(str.strip, cells))
        if values:
            col = list(map(values.get, col, col))
        if "" in col:
            return [v or empty for v in col], empty is BAD
        return col, False

    return rule


def _choice(spec: Column, allowed: tuple[str, ...]) -> Rule:
    """Source values to one of `allowed` (through the value map, ignoring case), each distinct
    value decided once."""
    known = {a: a for a in allowed} | {k.strip().lower(): v for k, v in spec.values.items()}

    class Choices(dict[str, Any]):
        def __missing__(self, value: str) -> Any:
            raw = value or spec.default or ""
            self[value] = found = known.get(spec.values.get(raw, raw).lower(), BAD)
            return found

    choices = Choices()

    def rule(cells: list[str]) -> tuple[list[Any], bool]:
        col = list(map(choices.__getitem__, map(str.strip, cells)))
        return col, BAD in choices.values() and BAD in col

    return rule


def _time(parse: Callable[[str], Any], required: bool) -> Rule:
    def one(cell: str) -> Any:
        if not cell:
            return BAD if required else None
        try:
            return parse(cell)
        except (ValueError, OverflowError, OSError):
            return BAD

    def rule(cells: list[str]) -> tuple[list[Any], bool]:
        col = list(map(str.strip, cells))
        try:  # the fast way first; a chunk with a bad cell goes again the careful way
            if "" not in col:
                return list(map(parse, col)), False
            if not required:
                return [parse(c) if c else None for c in col], False
        except (ValueError, OverflowError, OSError):
            pass
        values = list(map(one, col))
        return values, BAD in values

    return rule


class ChunkParser:
    """Turns a chunk of raw rows (CSV lists or JSON records) into tickets, or event rows when
    the mapping has `events`, and the reasons for the rows it rejects."""

    def __init__(self, mapping: TicketMapping, source: str, header: list[str] | None) -> None:
        self.source, self.header, self.events = source, header, mapping.events is not None
        tz, f = zone(mapping.timezone), mapping.fields
        fields = [(n, getattr(f, n)) for n in Ticket._fields[1:-1]]  # source < them < changes
        if mapping.events:
            fields += [("events.at", mapping.events.at), ("actor", mapping.events.actor)]
        self.rules = [(n, spec, *_rule(n, spec, mapping, tz)) for n, spec in fields if spec]
        self.absent = {n: "" if n == "title" else None for n, spec in fields if spec is None}
        self.order = [n for n, _ in fields]

    def cells(self, column: str, raws: list[Any]) -> list[str]:
        if self.header is not None:
            return list(map(itemgetter(self.header.index(column)), raws))
        return [cell(r, column) for r in raws]

    def parse(self, raws: list[Any]) -> tuple[list[Any], dict[int, str]]:
        columns: dict[str, Iterable[Any]] = {n: repeat(v) for n, v in self.absent.items()}
        bad: dict[int, str] = {}
        for name, spec, rule, why in self.rules:
            cells = self.cells(spec.column, raws)
            columns[name], failed = rule(cells)
            for i, value in enumerate(columns[name]) if failed else ():
                if value is BAD:
                    cell = cells[i].strip()
                    bad.setdefault(
                        i, why.format(cell) if cell else f"{name} ({spec.column}) is empty"
                    )
        ordered = [columns[n] for n in self.order]
        n = len(Ticket._fields) - 2  # the fields between source and changes
        tickets: list[Any] = list(map(Ticket, repeat(self.source), *ordered[:n]))
        if self.events:
            tickets = list(map(EventRow, tickets, *ordered[n:]))
        if bad:
            tickets = [t for i, t in enumerate(tickets) if i not in bad]
        return tickets, bad


def _rule(name: str, spec: Column, mapping: TicketMapping, tz: Any) -> tuple[Rule, str]:
    """The rule of one field and the reason, a format string of the cell, it rejects with."""
    field = f"{name} ({spec.column})"
    if name in ("priority", "status"):
        allowed = PRIORITIES if name == "priority" else STATUSES
        return _choice(spec, allowed), f"{field}: {{!r}} is not mapped (fields.{name}.values)"
    if name.endswith("_at") or name == "events.at":
        fmt, required = spec.format or mapping.timestamp_format, name in ("created_at", "events.at")
        why = f"{field}: {{!r}} is not a time in format {fmt!r}"
        return _time(timestamp_parser(fmt, tz), required), why
    return _text(spec, {"external_id": BAD, "title": ""}.get(name)), f"{field} is empty"


class TicketReader:
    """Iterate for tickets, read a chunk at a time; `read` and `rejected` count rows as they
    go by. Rows are numbered from 1, the first after a CSV header."""

    def __init__(
        self,
        rows: Iterable[Any],
        mapping: TicketMapping,
        *,
        header: list[str] | None,
        quarantine: Path,
        source: str | None = None,
        where: str = "the export",
    ) -> None:
        self.rows, self.mapping, self.header, self.where = rows, mapping, header, where
        self.source = source or mapping.source
        self.quarantine = Quarantine(quarantine, header)
        self.read = 0

    @property
    def rejected(self) -> int:
        return self.quarantine.count

    def __iter__(self) -> Iterator[Ticket]:
        rows = iter(self.rows)
        parser = self._parser(None) if self.header is not None else None  # even with no rows
        folded: dict[str, list[EventRow]] = {}
        while chunk := list(islice(rows, CHUNK)):
            parser = parser or self._parser(chunk[0])
            width = len(self.header) if self.header is not None else 0
            rejects: dict[int, str] = {}
            whole = chunk
            if width and set(map(len, chunk)) != {width}:
                rejects = {
                    i: f"has {len(raw)} fields, the header {width}"
                    for i, raw in enumerate(chunk)
                    if len(raw) != width
                }
                chunk = [raw for raw in chunk if len(raw) == width]
            good, bad = parser.parse(chunk)
            if bad:  # chunk index -> whole's
                kept = [i for i in range(len(whole)) if i not in rejects]
                rejects |= {kept[i]: reason for i, reason in bad.items()}
            for i in sorted(rejects):
                self.quarantine.add(self.read + i + 1, rejects[i], whole[i])
            self.read += len(whole)
            if not parser.events:
                yield from good
            for row in good if parser.events else ():
                folded.setdefault(row.ticket.external_id, []).append(row)
        for group in folded.values():
            yield fold(group)

    def _parser(self, first: Any) -> ChunkParser:
        require_columns(self.header, first, self.mapping, self.where)
        return ChunkParser(self.mapping, self.source, self.header)


@contextmanager
def open_export(
    path: Path,
    mapping: TicketMapping,
    *,
    source: str | None = None,
    quarantine: Path | None = None,
) -> Iterator[TicketReader]:
    """A reader over a CSV, JSON or JSON-lines export, chosen by the mapping or the suffix.
    Rejected rows go to `quarantine`, by default FILE.rejected.csv (or .jsonl) beside it."""
    with open_rows(path, mapping) as (rows, header, default):
        tickets = TicketReader(
            rows, mapping, header=header, quarantine=quarantine or default, source=source,
            where=str(path),
        )  # fmt: skip
        try:
            yield tickets
        finally:
            tickets.quarantine.close()


def fetch_pages(
    client: httpx.Client, url: str, mapping: TicketMapping, params: dict[str, Any] | None = None
) -> Iterator[Any]:
    """Records of every page: follows a Link rel=next header, a next-page URL in the body
    (mapping.rest.next) or offset paging (mapping.rest.offset_param), in that order."""
    rest, query = mapping.rest, dict(params or {})
    if rest.offset_param and rest.limit_param:
        query[rest.limit_param] = rest.page_size
    target: str | None = url
    offset = pages = 0
    while target is not None:
        pages += 1
        if pages > rest.max_pages:
            raise ValueError(f"{url}: more than {rest.max_pages} pages (rest.max_pages)")
        if rest.offset_param:
            query[rest.offset_param] = offset
        # a next-page URL carries its own query; the first and offset requests carry ours
        response = client.get(target, params=query if target == url else None)
        response.raise_for_status()
        page = response.json()
        records = records_at(page, mapping.records, str(response.url))
        yield from records
        link = response.links.get("next", {}).get("url") or (
            cell(page, rest.next) if rest.next else None
        )
        if link:
            target = str(response.url.join(link))
        elif not (rest.offset_param and len(records) >= rest.page_size):
            target = None
        offset += len(records)


@contextmanager
def fetch_tickets(
    client: httpx.Client,
    url: str,
    mapping: TicketMapping,
    *,
    quarantine: Path,
    source: str | None = None,
    params: dict[str, Any] | None = None,
) -> Iterator[TicketReader]:
    """A reader over a help desk's paginated REST API; rejected records go to `quarantine`
    (JSON lines). Pages are fetched as the reader is iterated."""
    pages = fetch_pages(client, url, mapping, params)
    tickets = TicketReader(
        pages, mapping, header=None, quarantine=quarantine, source=source, where=url
    )
    try:
        yield tickets
    finally:
        tickets.quarantine.close()
